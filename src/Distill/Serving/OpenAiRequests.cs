using System.Text.Json;
using Distill.Text;

namespace Distill.Serving;

/// <summary>A chat completion request, parsed.</summary>
internal sealed record ChatRequest(IReadOnlyList<ChatMessage> Messages, EngineRequest Engine, bool Stream, bool IncludeUsage, bool Logprobs, bool TokenIds = false);

/// <summary>A (legacy) completion request, parsed: one engine request per prompt.</summary>
/// <remarks><c>TokenIds</c> is vLLM's <c>return_tokens_as_token_ids</c>: tokens in log-probabilities are written "token_id:N".</remarks>
internal sealed record CompletionRequest(IReadOnlyList<(string? Text, EngineRequest Engine)> Prompts, bool Echo, int? Logprobs, bool Stream, bool TokenIds = false);

/// <summary>
/// Reads the OpenAI request bodies of <c>/v1/chat/completions</c> and <c>/v1/completions</c>. Every mistake is an
/// <see cref="EngineRequestException"/> naming the field, so the server answers 400 with OpenAI's error object.
/// Fields that would change the answer and are not implemented (tools, response_format, logit_bias, ...) are
/// refused; other unknown fields are ignored.
/// </summary>
internal static class OpenAiRequests
{
    // Fields that would change the answer in ways this server does not implement: refused rather than ignored.
    // Unknown fields are ignored, as vLLM does, so newer clients keep working.
    private static readonly string[] Unsupported =
        ["tools", "tool_choice", "functions", "function_call", "response_format", "logit_bias", "suffix", "best_of", "audio", "modalities"];

    private static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool"];

    public static ChatRequest Chat(JsonElement body, string modelName, Func<IReadOnlyList<ChatMessage>, int[]> encode)
    {
        CheckObject(body, modelName);
        if (!body.TryGetProperty("messages", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new EngineRequestException("'messages' must be a non-empty array of messages", "messages");
        var messages = new List<ChatMessage>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var where = $"messages[{index++}]";
            if (item.ValueKind != JsonValueKind.Object) throw new EngineRequestException($"{where} must be an object", where);
            var role = String(item, "role", where) ?? throw new EngineRequestException($"{where}.role is required", $"{where}.role");
            if (role == "developer") role = "system"; // OpenAI's newer name for the system role
            if (!Roles.Contains(role)) throw new EngineRequestException($"{where}.role '{role}' is not one of system, developer, user, assistant, tool", $"{where}.role");
            messages.Add(new ChatMessage(role, Content(item, where)));
        }
        var logprobs = Bool(body, "logprobs") ?? false;
        var top = Int(body, "top_logprobs");
        if (top is not null && !logprobs) throw new EngineRequestException("top_logprobs needs logprobs: true", "top_logprobs");
        var maxTokens = Int(body, "max_completion_tokens") ?? Int(body, "max_tokens");
        var engine = Sampling(body) with { Prompt = encode(messages), MaxTokens = maxTokens, TopLogprobs = logprobs ? top ?? 0 : null };
        var includeUsage = body.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        return new ChatRequest(messages, engine, Bool(body, "stream") ?? false, includeUsage, logprobs, Bool(body, "return_tokens_as_token_ids") ?? false);
    }

    public static CompletionRequest Completion(JsonElement body, string modelName, Func<string, int[]> encode)
    {
        CheckObject(body, modelName);
        if (!body.TryGetProperty("prompt", out var prompt)) throw new EngineRequestException("'prompt' is required", "prompt");
        var echo = Bool(body, "echo") ?? false;
        var logprobs = Int(body, "logprobs");
        if (logprobs is < 0 or > ServingEngine.MaxTopLogprobs)
            throw new EngineRequestException($"logprobs = {logprobs} must be in [0, {ServingEngine.MaxTopLogprobs}]", "logprobs");
        var sampling = Sampling(body) with { MaxTokens = Int(body, "max_tokens") ?? 16, TopLogprobs = logprobs, ScorePrompt = echo && logprobs is not null };
        var prompts = Prompts(prompt).Select(p => (p.Text, sampling with { Prompt = p.Ids ?? encode(p.Text!) })).ToList();
        return new CompletionRequest(prompts, echo, logprobs, Bool(body, "stream") ?? false, Bool(body, "return_tokens_as_token_ids") ?? false);
    }

    // A string, a list of strings, a list of token ids, or a list of lists of token ids.
    private static List<(string? Text, int[]? Ids)> Prompts(JsonElement prompt)
    {
        const string Shape = "'prompt' must be a string, an array of strings, an array of token ids or an array of such arrays";
        if (prompt.ValueKind == JsonValueKind.String) return [(prompt.GetString()!, null)];
        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0) throw new EngineRequestException(Shape, "prompt");
        var items = prompt.EnumerateArray().ToList();
        if (items.All(i => i.ValueKind == JsonValueKind.Number)) return [(null, Ids(prompt))];
        if (items.All(i => i.ValueKind == JsonValueKind.String)) return items.Select(i => ((string?)i.GetString(), (int[]?)null)).ToList();
        if (items.All(i => i.ValueKind == JsonValueKind.Array)) return items.Select(i => ((string?)null, (int[]?)Ids(i))).ToList();
        throw new EngineRequestException(Shape, "prompt");
    }

    private static int[] Ids(JsonElement array) =>
        array.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var id)
            ? id : throw new EngineRequestException("token ids must be integers", "prompt")).ToArray();

    private static EngineRequest Sampling(JsonElement body)
    {
        foreach (var penalty in new[] { "frequency_penalty", "presence_penalty" })
            if (Double(body, penalty) is { } p && p != 0)
                throw new EngineRequestException($"{penalty} is not supported (only 0)", penalty);
        return new EngineRequest
        {
            Prompt = [],
            N = Int(body, "n") ?? 1,
            Temperature = Double(body, "temperature") ?? 1.0,
            TopP = Double(body, "top_p") ?? 1.0,
            Seed = Long(body, "seed"),
            Stop = Stop(body),
        };
    }

    private static void CheckObject(JsonElement body, string modelName)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new EngineRequestException("the request body must be a JSON object", null);
        foreach (var name in Unsupported)
            if (body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                throw new EngineRequestException($"'{name}' is not supported by distill serve", name);
        if (String(body, "model", "") is { } model && model != modelName)
            throw new ModelNotFoundException(model);
    }

    private static string Content(JsonElement message, string where)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            throw new EngineRequestException($"{where}.content is required", $"{where}.content");
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        // Content parts: only text parts can be rendered by a text model.
        if (content.ValueKind == JsonValueKind.Array)
            return string.Concat(content.EnumerateArray().Select(part =>
                part.ValueKind == JsonValueKind.Object && String(part, "type", where) == "text" && String(part, "text", where) is { } text
                    ? text : throw new EngineRequestException($"{where}.content: only text parts are supported", $"{where}.content")));
        throw new EngineRequestException($"{where}.content must be a string or an array of text parts", $"{where}.content");
    }

    private static IReadOnlyList<string> Stop(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        if (stop.ValueKind == JsonValueKind.String) return [stop.GetString()!];
        if (stop.ValueKind == JsonValueKind.Array && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
            return stop.EnumerateArray().Select(s => s.GetString()!).ToList();
        throw new EngineRequestException("'stop' must be a string or an array of strings", "stop");
    }

    private static string? String(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        var param = where.Length == 0 ? name : $"{where}.{name}";
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new EngineRequestException($"'{param}' must be a string", param);
    }

    private static bool? Bool(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new EngineRequestException($"'{name}' must be a boolean", name),
        };
    }

    private static int? Int(JsonElement obj, string name) =>
        Long(obj, name) is { } v ? v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new EngineRequestException($"'{name}' is out of range", name) : null;

    private static long? Long(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v)) return v;
        throw new EngineRequestException($"'{name}' must be an integer", name);
    }

    private static double? Double(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        throw new EngineRequestException($"'{name}' must be a number", name);
    }
}

/// <summary>The request names a model this server does not serve (404, OpenAI's <c>model_not_found</c>).</summary>
internal sealed class ModelNotFoundException(string model) : Exception($"The model '{model}' does not exist")
{
    public string Model { get; } = model;
}
