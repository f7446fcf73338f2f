using System.Text.Json;

namespace Distill.Text.Conversations;

/// <summary>
/// Turns one JSONL line into chat messages. Throws <see cref="InvalidDataException"/> whose message is
/// only the reason; <see cref="ConversationReader"/> prefixes "file:line".
/// </summary>
internal static class ConversationParser
{
    private static readonly HashSet<string> KnownRoles = ["system", "user", "assistant", "tool"];

    // NeMo's chat dataset accepts these "type" values; both only change the layout of SteerLM "label"
    // attributes, which are refused below, so without labels they render like no type at all.
    private static readonly HashSet<string> NeMoTypes = ["VALUE_TO_TEXT", "TEXT_TO_VALUE"];

    /// <param name="line">One JSONL line.</param>
    /// <param name="format">Its layout, or auto-detected.</param>
    /// <param name="requireAssistant">False for prompts (<c>distill generate</c>): a conversation may end without an
    /// assistant turn, and a prompt-completion line may have no completion.</param>
    public static IReadOnlyList<ChatMessage> Parse(string line, ConversationFormat format, bool requireAssistant = true)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            // The reader's own position suffix says "LineNumber: 0" for every line; the byte offset is what helps.
            var message = e.Message;
            var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            throw new InvalidDataException($"invalid JSON at byte {e.BytePositionInLine ?? 0}: {(suffix < 0 ? message : message[..suffix])}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"expected a JSON object, got {Describe(root)}");
            var messages = (format == ConversationFormat.Auto ? Detect(root) : format) switch
            {
                ConversationFormat.Messages => ParseMessages(Required(root, "messages"), "messages"),
                ConversationFormat.NeMo => ParseNeMo(root),
                ConversationFormat.PromptCompletion => ParsePromptCompletion(root, requireAssistant),
                var other => throw new ArgumentOutOfRangeException(nameof(format), other, "unknown conversation format"),
            };
            if (messages.Count == 0)
                throw new InvalidDataException("empty conversation");
            if (requireAssistant && !messages.Any(m => m.Role == "assistant"))
                throw new InvalidDataException("no assistant turn");
            return messages;
        }
    }

    private static ConversationFormat Detect(JsonElement root)
    {
        if (root.TryGetProperty("messages", out _))
            return ConversationFormat.Messages;
        if (root.TryGetProperty("conversations", out _))
            return ConversationFormat.NeMo;
        if (root.TryGetProperty("prompt", out _) || root.TryGetProperty("completion", out _))
            return ConversationFormat.PromptCompletion;
        throw new InvalidDataException("unknown layout: expected a \"messages\", \"conversations\" or \"prompt\"/\"completion\" field");
    }

    private static List<ChatMessage> ParseMessages(JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"\"{field}\" must be an array, got {Describe(array)}");
        var messages = new List<ChatMessage>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var where = $"{field}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{where} must be an object, got {Describe(item)}");
            var role = RequiredString(item, "role", where);
            if (!KnownRoles.Contains(role))
                throw new InvalidDataException($"{where}: unknown role \"{Shorten(role)}\" (expected system, user, assistant or tool)");
            messages.Add(new ChatMessage(role, RequiredString(item, "content", where)));
        }
        return messages;
    }

    private static List<ChatMessage> ParseNeMo(JsonElement root)
    {
        if (root.TryGetProperty("mask", out var mask) && !(mask.ValueKind == JsonValueKind.String && mask.GetString() == "User"))
            throw new InvalidDataException($"\"mask\" must be \"User\" (only assistant turns are supervised), got {Describe(mask)}");
        if (root.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.Null
            && !(type.ValueKind == JsonValueKind.String && NeMoTypes.Contains(type.GetString()!)))
            throw new InvalidDataException($"\"type\" must be null, \"VALUE_TO_TEXT\" or \"TEXT_TO_VALUE\", got {Describe(type)}");
        var messages = new List<ChatMessage>();
        if (root.TryGetProperty("system", out var system) && system.ValueKind != JsonValueKind.Null)
        {
            if (system.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"\"system\" must be a string, got {Describe(system)}");
            // NeMo always writes a system header; an empty one means "no system prompt" for HF templates.
            if (system.GetString()!.Length > 0)
                messages.Add(new ChatMessage("system", system.GetString()!));
        }
        var turns = Required(root, "conversations");
        if (turns.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"\"conversations\" must be an array, got {Describe(turns)}");
        var index = 0;
        foreach (var turn in turns.EnumerateArray())
        {
            var where = $"conversations[{index++}]";
            if (turn.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{where} must be an object, got {Describe(turn)}");
            var from = RequiredString(turn, "from", where);
            var role = from.ToLowerInvariant() switch
            {
                "user" => "user",
                "assistant" => "assistant",
                _ => throw new InvalidDataException($"{where}: unknown speaker \"{Shorten(from)}\" (expected User or Assistant)"),
            };
            if (turn.TryGetProperty("label", out var label) && label.ValueKind != JsonValueKind.Null)
                throw new InvalidDataException($"{where}: SteerLM \"label\" attributes are not supported");
            messages.Add(new ChatMessage(role, RequiredString(turn, "value", where)));
        }
        return messages;
    }

    private static List<ChatMessage> ParsePromptCompletion(JsonElement root, bool requireCompletion)
    {
        var messages = PromptSide(Required(root, "prompt"), "prompt", "user");
        if (requireCompletion || root.TryGetProperty("completion", out _))
            messages.AddRange(PromptSide(Required(root, "completion"), "completion", "assistant"));
        return messages;
    }

    // TRL's "conversational" prompt-completion rows hold message lists instead of strings.
    private static List<ChatMessage> PromptSide(JsonElement value, string field, string role) => value.ValueKind switch
    {
        JsonValueKind.String => [new ChatMessage(role, value.GetString()!)],
        JsonValueKind.Array => ParseMessages(value, field),
        _ => throw new InvalidDataException($"\"{field}\" must be a string or an array of messages, got {Describe(value)}"),
    };

    private static JsonElement Required(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value : throw new InvalidDataException($"missing field \"{name}\"");

    private static string RequiredString(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var value))
            throw new InvalidDataException($"{where}: missing field \"{name}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: \"{name}\" must be a string, got {Describe(value)}");
        return value.GetString()!;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"\"{Shorten(value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
