using System.Text.Json.Nodes;
using Distill.Text.Tokenization;

namespace Distill.Serving;

/// <summary>The OpenAI response bodies: chat completions, chunks of a streamed one, completions, errors.</summary>
internal static class OpenAiResponses
{
    public static JsonObject Error(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };

    public static JsonObject Models(string name, long created) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject { ["id"] = name, ["object"] = "model", ["created"] = created, ["owned_by"] = "distill" }),
    };

    public static JsonObject Chat(string id, long created, string model, EngineRequest request, EngineResult result, HfTokenizer tokenizer, bool tokenIds = false)
    {
        var choices = new JsonArray();
        for (var i = 0; i < result.Choices.Count; i++)
        {
            var c = result.Choices[i];
            choices.Add(new JsonObject
            {
                ["index"] = i,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = c.Text },
                ["logprobs"] = c.Logprobs is null ? null : new JsonObject { ["content"] = ChatLogprobs(c.Logprobs, tokenizer, tokenIds) },
                ["finish_reason"] = c.FinishReason,
            });
        }
        return new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model, ["choices"] = choices,
            ["usage"] = Usage(request.Prompt.Length, result.Choices.Sum(c => c.Tokens.Length)),
        };
    }

    /// <summary>
    /// The server-sent events of a streamed chat completion sent after the fact (with stop strings or logprobs, which
    /// need the whole continuation), in order, each a whole "data: ...\n\n" event.
    /// </summary>
    public static IEnumerable<string> ChatChunks(string id, long created, string model, EngineRequest request, EngineResult result,
        HfTokenizer tokenizer, bool includeUsage, bool tokenIds = false)
    {
        for (var i = 0; i < result.Choices.Count; i++)
        {
            var c = result.Choices[i];
            yield return Event(ChatChunk(id, created, model, i, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null));
            var pieces = StopStrings.Pieces(tokenizer, c.Tokens, c.Text);
            for (var t = 0; t < pieces.Count; t++)
            {
                var logprobs = c.Logprobs is null ? null : ChatLogprobs([c.Logprobs[t]], tokenizer, tokenIds);
                if (pieces[t].Length > 0 || logprobs is not null)
                    yield return Event(ChatChunk(id, created, model, i, new JsonObject { ["content"] = pieces[t] }, logprobs, null));
            }
            yield return Event(ChatChunk(id, created, model, i, new JsonObject(), null, c.FinishReason));
        }
        if (includeUsage) yield return Event(UsageChunk(id, created, model, request, result));
        yield return Done;
    }

    /// <summary>The stream's last event.</summary>
    public const string Done = "data: [DONE]\n\n";

    /// <summary>One <c>chat.completion.chunk</c> for one choice.</summary>
    public static JsonObject ChatChunk(string id, long created, string model, int index, JsonObject delta, JsonArray? logprobs, string? finish) => new()
    {
        ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = index, ["delta"] = delta,
            ["logprobs"] = logprobs is null ? null : new JsonObject { ["content"] = logprobs },
            ["finish_reason"] = finish,
        }),
    };

    /// <summary>The last chunk with <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public static JsonObject UsageChunk(string id, long created, string model, EngineRequest request, EngineResult result) => new()
    {
        ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray(),
        ["usage"] = Usage(request.Prompt.Length, result.Choices.Sum(c => c.Tokens.Length)),
    };

    public static JsonObject Completion(string id, long created, string model, CompletionRequest request, IReadOnlyList<EngineResult> results,
        HfTokenizer tokenizer)
    {
        var choices = new JsonArray();
        var index = 0;
        for (var p = 0; p < results.Count; p++)
        {
            var prompt = request.Prompts[p].Engine.Prompt;
            var promptText = request.Prompts[p].Text ?? tokenizer.Decode(prompt);
            foreach (var c in results[p].Choices)
            {
                var text = request.Echo ? promptText + c.Text : c.Text;
                JsonNode? logprobs = null;
                if (request.Logprobs is not null)
                {
                    var entries = new List<(int Id, TokenLogprob? Scored)>();
                    if (request.Echo) entries.AddRange(prompt.Select((id, t) => (id, results[p].PromptLogprobs![t])));
                    entries.AddRange(c.Tokens.Select((id, t) => (id, (TokenLogprob?)c.Logprobs![t])));
                    logprobs = LegacyLogprobs(entries, tokenizer, request.TokenIds);
                }
                choices.Add(new JsonObject { ["index"] = index++, ["text"] = text, ["logprobs"] = logprobs, ["finish_reason"] = c.FinishReason });
            }
        }
        return new JsonObject
        {
            ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model, ["choices"] = choices,
            ["usage"] = Usage(request.Prompts.Sum(p => p.Engine.Prompt.Length), results.Sum(r => r.Choices.Sum(c => c.Tokens.Length))),
        };
    }

    public static string Event(JsonNode data) => $"data: {data.ToJsonString()}\n\n";

    private static JsonObject Usage(int prompt, int completion) =>
        new() { ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion };

    private static JsonArray ChatLogprobs(IEnumerable<TokenLogprob> tokens, HfTokenizer tokenizer, bool tokenIds)
    {
        var array = new JsonArray();
        foreach (var t in tokens)
        {
            var top = new JsonArray();
            foreach (var (id, logprob) in t.Top) top.Add(Token(id, logprob, tokenizer, tokenIds));
            var entry = Token(t.Id, t.Logprob, tokenizer, tokenIds);
            entry["top_logprobs"] = top;
            array.Add(entry);
        }
        return array;
    }

    private static JsonObject Token(int id, float logprob, HfTokenizer tokenizer, bool tokenIds)
    {
        return new JsonObject
        {
            ["token"] = Name(tokenizer, id, tokenIds), ["logprob"] = logprob,
            ["bytes"] = new JsonArray([.. TokenBytes.Of(tokenizer, id).Select(b => (JsonNode)(int)b)]),
        };
    }

    // vLLM's return_tokens_as_token_ids names tokens "token_id:N": unambiguous where several tokens decode to one string
    // (the completions API's top_logprobs map would otherwise keep only one of them).
    private static string Name(HfTokenizer tokenizer, int id, bool tokenIds) => tokenIds ? $"token_id:{id}" : tokenizer.Decode([id]);

    // The completions API's layout: parallel arrays, top alternatives as {token: logprob} maps, character offsets.
    private static JsonObject LegacyLogprobs(List<(int Id, TokenLogprob? Scored)> entries, HfTokenizer tokenizer, bool tokenIds)
    {
        var tokens = new JsonArray();
        var logprobs = new JsonArray();
        var tops = new JsonArray();
        var offsets = new JsonArray();
        var offset = 0;
        foreach (var (id, scored) in entries)
        {
            var text = tokenizer.Decode([id]);
            tokens.Add(Name(tokenizer, id, tokenIds));
            logprobs.Add(scored is null ? null : JsonValue.Create(scored.Logprob));
            if (scored is null)
            {
                tops.Add(null);
            }
            else
            {
                var top = new JsonObject();
                foreach (var (alt, lp) in scored.Top) top[Name(tokenizer, alt, tokenIds)] = lp;
                tops.Add(top);
            }
            offsets.Add(offset);
            offset += text.Length;
        }
        return new JsonObject { ["tokens"] = tokens, ["token_logprobs"] = logprobs, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }
}
