using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distill.Serving;

/// <summary>
/// An OpenAI-compatible HTTP server over a <see cref="ServingEngine"/> (ASP.NET Core minimal API on Kestrel):
/// <c>GET /v1/models</c>, <c>POST /v1/chat/completions</c> (with <c>stream</c> as server-sent events) and
/// <c>POST /v1/completions</c> (with <c>echo</c> + <c>logprobs</c> scoring given text). A bad request gets OpenAI's
/// error object with a 4xx status; only a fault of the server itself is a 500.
/// <para>Streaming sends each token's text as the sampler emits it; with <c>stop</c> strings or <c>logprobs</c>, which need
/// the whole continuation (a stop string may span tokens; log-probabilities come from a scoring pass), the chunks are
/// sent once it is complete.</para>
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServingEngine _engine;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private OpenAiServer(WebApplication app, ServingEngine engine, Uri address)
    {
        _app = app;
        _engine = engine;
        Address = address;
    }

    /// <summary>The bound address, e.g. http://127.0.0.1:8000/ (with the real port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>The API root clients take as base URL: <see cref="Address"/> + "v1/".</summary>
    public Uri BaseUrl => new(Address, "v1/");

    /// <summary>Starts listening on <paramref name="host"/>:<paramref name="port"/> (port 0: a free one).</summary>
    /// <param name="engine">The model to serve; stays the caller's.</param>
    /// <param name="host">An IP address or localhost.</param>
    /// <param name="port">The TCP port; 0 picks a free one (see <see cref="Address"/>).</param>
    /// <param name="log">Gets one line per request ("POST /v1/chat/completions 200"); null keeps the server quiet.</param>
    /// <param name="cancel">Cancels the start.</param>
    public static async Task<OpenAiServer> StartAsync(ServingEngine engine, string host = "127.0.0.1", int port = 8000,
        Action<string>? log = null, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(ParseHost(host), port));
        var app = builder.Build();
        OpenAiServer? server = null;
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Response.StatusCode is 404 or 405 && !context.Response.HasStarted)
                await WriteError(context, context.Response.StatusCode, context.Response.StatusCode == 404
                    ? $"unknown endpoint {context.Request.Method} {context.Request.Path}" : $"method {context.Request.Method} not allowed on {context.Request.Path}",
                    "invalid_request_error", null, context.Response.StatusCode == 404 ? "not_found" : "method_not_allowed");
            log?.Invoke($"{context.Request.Method} {context.Request.Path} {context.Response.StatusCode}");
        });
        app.MapGet("/v1/models", (HttpContext c) => Results.Json(OpenAiResponses.Models(engine.ModelName, server!._created)));
        app.MapPost("/v1/chat/completions", (HttpContext c) => server!.Guard(c, server.ChatAsync));
        app.MapPost("/v1/completions", (HttpContext c) => server!.Guard(c, server.CompletionAsync));
        await app.StartAsync(cancel);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new OpenAiServer(app, engine, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
        return server;
    }

    /// <summary>Completes when the server stops (<paramref name="cancel"/>, or the host's shutdown signals).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops listening; the engine is the caller's to dispose.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        _ when IPAddress.TryParse(host, out var address) => address,
        _ => throw new ArgumentException($"--host '{host}' must be an IP address or localhost"),
    };

    private async Task Guard(HttpContext context, Func<HttpContext, JsonElement, Task> handle)
    {
        try
        {
            using var body = await ReadBody(context);
            await handle(context, body.RootElement);
        }
        catch (ModelNotFoundException e)
        {
            await WriteError(context, 404, e.Message, "invalid_request_error", "model", "model_not_found");
        }
        catch (EngineRequestException e)
        {
            await WriteError(context, 400, e.Message, "invalid_request_error", e.Param, e.Code);
        }
        catch (InvalidDataException e) // the chat template refused the messages
        {
            await WriteError(context, 400, e.Message, "invalid_request_error", "messages", null);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await WriteError(context, 500, $"internal error: {e.Message}", "server_error", null, null);
        }
    }

    private static async Task<JsonDocument> ReadBody(HttpContext context)
    {
        if (context.Request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw new EngineRequestException($"the body must be JSON (Content-Type: application/json), got {type}", null);
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new EngineRequestException($"the body is not valid JSON: {e.Message}", null);
        }
        catch (BadHttpRequestException e)
        {
            throw new EngineRequestException($"bad request body: {e.Message}", null);
        }
    }

    private async Task ChatAsync(HttpContext context, JsonElement body)
    {
        var chat = _engine.Chat;
        var request = OpenAiRequests.Chat(body, _engine.ModelName, messages => chat.Encode(chat.Render(messages, addGenerationPrompt: true)).Ids);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (request.Stream && request.Engine.Stop.Count == 0 && request.Engine.TopLogprobs is null)
        {
            await StreamLiveAsync(context, request, id, created);
            return;
        }
        var result = await _engine.SubmitAsync(request.Engine, context.RequestAborted);
        if (!request.Stream)
        {
            await WriteJson(context, 200, OpenAiResponses.Chat(id, created, _engine.ModelName, request.Engine, result, chat.Tokenizer, request.TokenIds));
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        foreach (var chunk in OpenAiResponses.ChatChunks(id, created, _engine.ModelName, request.Engine, result, chat.Tokenizer, request.IncludeUsage, request.TokenIds))
            await context.Response.WriteAsync(chunk, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    // Token by token as the sampler emits them: each choice's text so far is decoded again after every token and the new
    // part sent (a token ending inside a multi-byte character decodes to U+FFFD, held back until the character is whole).
    private async Task StreamLiveAsync(HttpContext context, ChatRequest request, string id, long created)
    {
        var tokens = Channel.CreateUnbounded<(int Choice, int Token)>(new UnboundedChannelOptions { SingleReader = true });
        var run = _engine.SubmitAsync(request.Engine, (choice, token) => tokens.Writer.TryWrite((choice, token)), context.RequestAborted);
        _ = run.ContinueWith(_ => tokens.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var n = request.Engine.N;
        var seen = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var sent = new int[n];
        async Task Send(JsonObject chunk)
        {
            await context.Response.WriteAsync(OpenAiResponses.Event(chunk), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        for (var i = 0; i < n; i++)
            await Send(OpenAiResponses.ChatChunk(id, created, _engine.ModelName, i, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null));
        await foreach (var (choice, token) in tokens.Reader.ReadAllAsync(context.RequestAborted))
        {
            seen[choice].Add(token);
            var text = _engine.Chat.Tokenizer.Decode(seen[choice], skipSpecialTokens: true);
            var end = text.EndsWith('\uFFFD') ? text.Length - 1 : text.Length;
            if (end <= sent[choice]) continue;
            await Send(OpenAiResponses.ChatChunk(id, created, _engine.ModelName, choice, new JsonObject { ["content"] = text[sent[choice]..end] }, null, null));
            sent[choice] = end;
        }
        EngineResult result;
        try
        {
            result = await run;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The status is already sent: report the failure as an event, as vLLM does.
            await context.Response.WriteAsync(OpenAiResponses.Event(OpenAiResponses.Error($"internal error: {e.Message}", "server_error", null, null)));
            await context.Response.WriteAsync(OpenAiResponses.Done);
            return;
        }
        for (var i = 0; i < n; i++)
        {
            var text = result.Choices[i].Text;
            if (sent[i] < text.Length)
                await Send(OpenAiResponses.ChatChunk(id, created, _engine.ModelName, i, new JsonObject { ["content"] = text[sent[i]..] }, null, null));
            await Send(OpenAiResponses.ChatChunk(id, created, _engine.ModelName, i, new JsonObject(), null, result.Choices[i].FinishReason));
        }
        if (request.IncludeUsage) await Send(OpenAiResponses.UsageChunk(id, created, _engine.ModelName, request.Engine, result));
        await context.Response.WriteAsync(OpenAiResponses.Done, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private async Task CompletionAsync(HttpContext context, JsonElement body)
    {
        var chat = _engine.Chat;
        var request = OpenAiRequests.Completion(body, _engine.ModelName, text => chat.Encode(text).Ids);
        if (request.Stream) throw new EngineRequestException("stream is not supported on /v1/completions (use /v1/chat/completions)", "stream");
        // Every prompt is its own engine request, submitted at once so they share a batch.
        var results = await Task.WhenAll(request.Prompts.Select(p => _engine.SubmitAsync(p.Engine, context.RequestAborted)));
        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        await WriteJson(context, 200, OpenAiResponses.Completion(id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), _engine.ModelName, request, results, chat.Tokenizer));
    }

    private static Task WriteError(HttpContext context, int status, string message, string type, string? param, string? code) =>
        WriteJson(context, status, OpenAiResponses.Error(message, type, param, code));

    private static async Task WriteJson(HttpContext context, int status, JsonObject body)
    {
        if (context.Response.HasStarted) return; // a stream already under way cannot change its status
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
