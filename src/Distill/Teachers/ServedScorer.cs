using System.Text.Json.Nodes;
using Distill.Synthetic;
using Distill.Text.Tokenization;

namespace Distill.Teachers;

/// <summary>What a server said about given tokens: per position t ≥ 1, log p(token t) and the top tokens there.</summary>
/// <param name="LabelLogProbs">[T]: log p(token t | tokens before t); entry 0 (nothing precedes it) is NaN.</param>
/// <param name="Top">[T]: the top tokens at t as student ids with log-probabilities (possibly more than K, any order);
/// null at 0 and when no top was asked for.</param>
public sealed record ScoredTokens(float[] LabelLogProbs, (int Id, double Logprob)[]?[] Top);

/// <summary>
/// Scores given token ids on an OpenAI-compatible server: <c>POST /v1/completions</c> with the ids as the prompt,
/// <c>echo</c>, <c>logprobs = K</c>, <c>max_tokens = 1</c> (vLLM refuses 0; the one generated token is ignored) and
/// <c>return_tokens_as_token_ids</c> (vLLM's, so tokens come back as ids and top tokens whose strings collide are not
/// lost; servers without it send strings, mapped through <see cref="ServedTokenMap"/>). The server must tokenize as the
/// student does, or the request is refused: echoed token strings must map back to the ids sent; echoed token ids say
/// nothing (they are the ids sent), so then the echoed text must be the student's decoding of the ids. At most
/// <c>maxConcurrency</c> requests are in flight; each has the retries of <see cref="RemoteChatTeacher"/>.
/// </summary>
public sealed class ServedScorer : IDisposable
{
    private readonly RemoteChatTeacher _server;
    private readonly ServedTokenMap _map;
    private readonly HfTokenizer _student;
    private readonly SemaphoreSlim _gate;

    private ServedScorer(RemoteChatTeacher server, HfTokenizer student, ServedTokenMap map, string url, int maxConcurrency)
    {
        _server = server;
        _student = student;
        _map = map;
        Url = url;
        _gate = new SemaphoreSlim(maxConcurrency);
        Name = $"{url} ({server.Name})";
    }

    /// <summary>The server's address as given.</summary>
    public string Url { get; }

    /// <summary>The model it serves.</summary>
    public string Model => _server.Name;

    /// <summary>"URL (model)", for messages.</summary>
    public string Name { get; }

    /// <summary>Connects to <paramref name="url"/>; <paramref name="model"/> null asks /v1/models for it.</summary>
    /// <param name="url">The server (with or without /v1).</param>
    /// <param name="model">The model to ask for, or null.</param>
    /// <param name="student">The student's tokenizer: the server's tokens are mapped to its ids.</param>
    /// <param name="vocabSize">The student's vocabulary size.</param>
    /// <param name="maxConcurrency">Requests in flight at most.</param>
    /// <param name="apiKeyEnv">The environment variable holding the API key.</param>
    /// <exception cref="InvalidDataException">The server cannot be reached or lists no model.</exception>
    public static ServedScorer Connect(string url, string? model, HfTokenizer student, int vocabSize, int maxConcurrency = 16,
        string apiKeyEnv = "OPENAI_API_KEY")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        var options = new GenerateOptions { TeacherUrl = url, Model = model, ApiKeyEnv = apiKeyEnv, Prompts = "", Output = "" };
        var server = RemoteChatTeacher.ConnectAsync(options, CancellationToken.None).GetAwaiter().GetResult();
        return new ServedScorer(server, student, ServedTokenMap.For(student, vocabSize), url, maxConcurrency);
    }

    /// <summary>The request's parameters besides the prompt, as sent (recorded in a cache's manifest).</summary>
    public static JsonObject Parameters(int topK) => new()
    {
        ["echo"] = true, ["logprobs"] = topK, ["max_tokens"] = 1, ["temperature"] = 0, ["return_tokens_as_token_ids"] = true,
    };

    /// <summary>Scores <paramref name="ids"/>, asking for the <paramref name="topK"/> most likely tokens at every position (0: none).</summary>
    /// <exception cref="InvalidDataException">The server failed, cannot score given text, or tokenizes otherwise than the student;
    /// names the server, the position and the token.</exception>
    public async Task<ScoredTokens> ScoreAsync(int[] ids, int topK, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var body = Parameters(Math.Max(topK, 1));
        body["prompt"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]);
        JsonNode answer;
        await _gate.WaitAsync(cancel);
        try
        {
            answer = await _server.PostAsync("completions", body, cancel);
        }
        catch (TeacherFailedException e)
        {
            throw new InvalidDataException($"{Name}: scoring {ids.Length} given tokens failed: {e.Message}; the teacher must accept " +
                "token ids as the prompt with echo and logprobs on /v1/completions (vLLM and distill serve do)", e);
        }
        finally
        {
            _gate.Release();
        }
        return Parse(answer, ids, topK);
    }

    private ScoredTokens Parse(JsonNode answer, int[] ids, int topK)
    {
        var logprobs = answer["choices"]?[0]?["logprobs"];
        if (logprobs?["token_logprobs"] is not JsonArray values || logprobs["tokens"] is not JsonArray tokens)
            throw new InvalidDataException($"{Name}: /v1/completions answered without logprobs.tokens and logprobs.token_logprobs; it cannot score given text (echo with logprobs)");
        var tops = logprobs["top_logprobs"] as JsonArray;
        if (topK > 0 && tops is null)
            throw new InvalidDataException($"{Name}: /v1/completions answered without logprobs.top_logprobs; it cannot give the top-{topK} of given text");
        // One generated token may follow the echoed prompt (max_tokens = 1).
        if (values.Count < ids.Length || tokens.Count < ids.Length)
            throw new InvalidDataException($"{Name}: scored {Math.Min(values.Count, tokens.Count)} tokens for the {ids.Length} it was given; the server's tokenization is not the student's");
        if (tokens.Any(t => ((string?)t)?.StartsWith(ServedTokenMap.TokenIdPrefix, StringComparison.Ordinal) == true))
            CheckText((string?)answer["choices"]![0]!["text"], ids);
        var label = new float[ids.Length];
        var top = new (int, double)[]?[ids.Length];
        label[0] = float.NaN;
        for (var t = 0; t < ids.Length; t++)
        {
            var where = $"{Name}: scored prompt position {t}";
            var echoed = _map.Resolve((string?)tokens[t] ?? "", null, where);
            if (echoed != ids[t])
                throw new InvalidDataException($"{where}: the server's token {tokens[t]!.ToJsonString()} is student id {echoed}, but id {ids[t]} was sent; the server's tokenization is not the student's");
            if (t == 0) continue;
            label[t] = values[t] is JsonValue v ? (float)v.GetValue<double>() : throw new InvalidDataException($"{where}: no log-probability");
            if (topK == 0) continue;
            if (tops![t] is not JsonObject entries) throw new InvalidDataException($"{where}: no top_logprobs");
            top[t] = [.. entries.Select(e => (_map.Resolve(e.Key, null, where), e.Value!.GetValue<double>()))];
        }
        return new ScoredTokens(label, top);
    }

    // The echoed text must begin with the student's decoding of the ids (one generated token may follow). Servers differ
    // in whether they keep special tokens and in the spaces they put around them (vLLM), so both decodings are tried,
    // with whitespace ignored: another tokenizer decodes the same ids to other characters, not only other spaces.
    private void CheckText(string? text, int[] ids)
    {
        static string Squeeze(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
        if (text is null) throw new InvalidDataException($"{Name}: /v1/completions echoed token ids without the prompt's text; the tokenization cannot be checked");
        var echoed = Squeeze(text);
        var plain = Squeeze(_student.Decode(ids, skipSpecialTokens: true));
        var full = Squeeze(_student.Decode(ids));
        if (echoed.StartsWith(plain, StringComparison.Ordinal) || echoed.StartsWith(full, StringComparison.Ordinal)) return;
        var at = Enumerable.Range(0, Math.Min(echoed.Length, full.Length)).FirstOrDefault(i => echoed[i] != full[i]);
        throw new InvalidDataException($"{Name}: the server decodes the {ids.Length} token ids sent to other text than the student's tokenizer " +
            $"(first difference at character {at}: server {Show(echoed, at)}, student {Show(full, at)}); the server's tokenization is not the student's");
    }

    private static string Show(string s, int at) => System.Text.Json.JsonSerializer.Serialize(s.Substring(at, Math.Min(12, s.Length - at)), Relaxed);

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        _server.Dispose();
        _gate.Dispose();
    }

    // Messages show tokens as JSON strings (control characters escaped) without escaping '<', '>' or non-ASCII text.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
