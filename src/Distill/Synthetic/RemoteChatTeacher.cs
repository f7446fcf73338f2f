using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Text;

namespace Distill.Synthetic;

/// <summary>
/// An OpenAI-compatible server as teacher (OpenAI, vLLM, SGLang, TGI, <c>distill serve</c>): <c>POST
/// /v1/chat/completions</c> per prompt. Transient failures — 408, 429, 5xx, timeouts, refused or reset connections,
/// malformed or truncated replies — are retried with exponential backoff and full jitter (AWS's "full jitter": a
/// uniform wait in [0, base·2^attempt], capped), or after the server's <c>Retry-After</c> when it sends one. Other 4xx
/// answers are the request's fault and fail at once. The API key is sent as a bearer token and kept only in the
/// client's headers: it is never written to a file, a log or an error message.
/// </summary>
public sealed class RemoteChatTeacher : IChatTeacher
{
    private readonly HttpClient _http;
    private readonly GenerateOptions _options;
    private long _retries;

    private RemoteChatTeacher(HttpClient http, GenerateOptions options, string name)
    {
        _http = http;
        _options = options;
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Retries made so far (for progress).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Connects to <see cref="GenerateOptions.TeacherUrl"/>; asks <c>/v1/models</c> for the model id when none is given.</summary>
    /// <exception cref="InvalidDataException">The server cannot be reached or lists no model.</exception>
    public static async Task<RemoteChatTeacher> ConnectAsync(GenerateOptions options, CancellationToken cancel)
    {
        var http = new HttpClient { BaseAddress = BaseUrl(options.TeacherUrl!), Timeout = Timeout.InfiniteTimeSpan };
        if (Environment.GetEnvironmentVariable(options.ApiKeyEnv) is { Length: > 0 } key)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        try
        {
            var name = options.Model;
            if (name is null)
            {
                var (models, _) = await SendWithRetries(http, options, () => new HttpRequestMessage(HttpMethod.Get, "models"), null, cancel);
                name = (string?)models["data"]?[0]?["id"]
                       ?? throw new InvalidDataException($"{options.TeacherUrl}: /v1/models lists no model; name one with --model");
            }
            return new RemoteChatTeacher(http, options, name);
        }
        catch (TeacherFailedException e)
        {
            http.Dispose();
            throw new InvalidDataException($"{options.TeacherUrl}: cannot list models: {e.Message}", e);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>
    /// POSTs <paramref name="body"/> (its "model" set to this teacher's) to <paramref name="path"/> under the API root,
    /// with this connection's timeout and retries; returns the parsed answer.
    /// </summary>
    /// <exception cref="TeacherFailedException">The server refused the request, or failed it on every attempt.</exception>
    internal async Task<JsonNode> PostAsync(string path, JsonObject body, CancellationToken cancel)
    {
        body["model"] = Name;
        var text = body.ToJsonString();
        var (json, _) = await SendWithRetries(_http, _options,
            () => new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(text, Encoding.UTF8, "application/json") },
            null, cancel, () => Interlocked.Increment(ref _retries));
        return json;
    }

    /// <summary>"http://host:8000" and "http://host:8000/v1" both mean the API root "http://host:8000/v1/".</summary>
    public static Uri BaseUrl(string url)
    {
        var trimmed = url.TrimEnd('/');
        return new Uri((trimmed.EndsWith("/v1", StringComparison.Ordinal) ? trimmed : trimmed + "/v1") + "/");
    }

    /// <inheritdoc />
    public async Task<TeacherReply> AnswerAsync(IReadOnlyList<ChatMessage> messages, TeacherSampling sampling, CancellationToken cancel)
    {
        var body = new JsonObject
        {
            ["model"] = Name,
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["n"] = sampling.N,
            ["temperature"] = sampling.Temperature,
            ["top_p"] = sampling.TopP,
            ["max_tokens"] = sampling.MaxTokens,
        };
        if (sampling.Seed is { } seed) body["seed"] = seed;
        if (sampling.TopLogprobs is { } k) (body["logprobs"], body["top_logprobs"]) = (true, k);
        if (sampling.TopLogprobs is not null && _options.ServerTokenIds) body["return_tokens_as_token_ids"] = true;
        var text = body.ToJsonString();
        HttpRequestMessage Request() => new(HttpMethod.Post, "chat/completions") { Content = new StringContent(text, Encoding.UTF8, "application/json") };
        var (reply, attempts) = await SendWithRetries(_http, _options, Request, json => Parse(json, sampling.N, sampling.TopLogprobs is not null), cancel, () => Interlocked.Increment(ref _retries));
        return Parse(reply, sampling.N, sampling.TopLogprobs is not null)! with { Attempts = attempts };
    }

    /// <summary>Closes the connection pool.</summary>
    public void Dispose() => _http.Dispose();

    // A reply is well-formed when it has n choices, each with string content (and log-probabilities when asked for); else
    // null (retried as malformed).
    private static TeacherReply? Parse(JsonNode json, int n, bool logprobs)
    {
        if (json["choices"] is not JsonArray choices || choices.Count != n) return null;
        var list = new List<TeacherChoice>();
        foreach (var c in choices)
        {
            if (c?["message"]?["content"] is not JsonValue content || !content.TryGetValue<string>(out var textContent)) return null;
            var finish = c["finish_reason"] is JsonValue f && f.TryGetValue<string>(out var reason) ? reason : "unknown";
            var tokens = logprobs ? Logprobs(c["logprobs"]?["content"]) : null;
            if (logprobs && tokens is null) return null;
            list.Add(new TeacherChoice(textContent, finish, null, tokens));
        }
        var usage = json["usage"];
        var prompt = usage?["prompt_tokens"] is JsonValue p && p.TryGetValue<int>(out var pt) ? pt : (int?)null;
        var completion = usage?["completion_tokens"] is JsonValue cv && cv.TryGetValue<int>(out var ct) ? ct : (int?)null;
        // Per-response counts are known only when there is one response; with n > 1 the server gives the total.
        if (n == 1 && completion is not null) list[0] = list[0] with { CompletionTokens = completion };
        return new TeacherReply(list, prompt, completion, 1);
    }

    // The chat API's logprobs.content: per token its text, bytes, log-probability and top_logprobs; null when malformed.
    private static List<ServedLogprob>? Logprobs(JsonNode? content)
    {
        if (content is not JsonArray array) return null;
        static ServedLogprob? Entry(JsonNode? e, bool withTop)
        {
            if (e?["token"] is not JsonValue t || !t.TryGetValue<string>(out var token) || e["logprob"] is not JsonValue l || !l.TryGetValue<double>(out var logprob))
                return null;
            var bytes = e["bytes"] is JsonArray b ? b.Select(x => (byte)x!.GetValue<int>()).ToArray() : null;
            if (!withTop) return new ServedLogprob(token, bytes, logprob, []);
            if (e["top_logprobs"] is not JsonArray tops) return null;
            var top = tops.Select(x => Entry(x, false)).ToList();
            return top.Any(x => x is null) ? null : new ServedLogprob(token, bytes, logprob, [.. top.Select(x => x!)]);
        }
        var entries = array.Select(e => Entry(e, true)).ToList();
        return entries.Any(e => e is null) ? null : [.. entries.Select(e => e!)];
    }

    private static async Task<(JsonNode Json, int Attempts)> SendWithRetries(HttpClient http, GenerateOptions options,
        Func<HttpRequestMessage> request, Func<JsonNode, object?>? validate, CancellationToken cancel, Action? onRetry = null)
    {
        var attempt = 0;
        while (true)
        {
            attempt++;
            TimeSpan? retryAfter = null;
            string reason;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
                try
                {
                    using var message = request();
                    using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token);
                    var text = await response.Content.ReadAsStringAsync(timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        var json = TryParse(text);
                        if (json is not null && (validate is null || validate(json) is not null)) return (json, attempt);
                        reason = $"malformed response: {Shorten(text)}";
                    }
                    else
                    {
                        reason = $"HTTP {(int)response.StatusCode}: {ErrorMessage(text)}";
                        if (!Transient(response.StatusCode)) throw new TeacherFailedException(reason, attempt);
                        retryAfter = RetryAfter(response);
                    }
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    reason = $"no answer within {options.TimeoutSeconds:0.###} s";
                }
                catch (HttpRequestException e)
                {
                    reason = $"connection failed: {e.Message}";
                }
                catch (IOException e)
                {
                    reason = $"connection broke: {e.Message}";
                }
            }
            if (attempt >= options.MaxAttempts) throw new TeacherFailedException($"{reason} (after {attempt} attempts)", attempt);
            onRetry?.Invoke();
            await Task.Delay(Backoff(options, attempt, retryAfter), cancel);
        }
    }

    private static bool Transient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static TimeSpan Backoff(GenerateOptions options, int attempt, TimeSpan? retryAfter)
    {
        var cap = TimeSpan.FromSeconds(options.MaxBackoffSeconds);
        if (retryAfter is { } after) return after < cap ? after : cap;
        var ceiling = Math.Min(options.MaxBackoffSeconds, options.BackoffSeconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromSeconds(Random.Shared.NextDouble() * ceiling);
    }

    // Retry-After as seconds or as an HTTP date.
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string ErrorMessage(string text) =>
        TryParse(text)?["error"]?["message"] is JsonValue m && m.TryGetValue<string>(out var message) ? Shorten(message) : Shorten(text);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
