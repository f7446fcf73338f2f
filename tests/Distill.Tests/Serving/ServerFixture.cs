using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Serving;
using Distill.Tests.Teachers;

namespace Distill.Tests.Serving;

/// <summary>
/// <c>distill serve</c>'s server on a free loopback port over the tiny teacher (vocabulary 413, context 128, chatml),
/// shared by a test class. A 30 ms batch window so that requests a test sends together reliably share a batch.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    internal TinyTeacher Tiny { get; } = new(conversations: 3);

    public ServingEngine Engine { get; private set; } = null!;

    public OpenAiServer Server { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public const string Name = "tiny";

    public async Task InitializeAsync()
    {
        Engine = new ServingEngine(Tiny.Load(), Tiny.Chat(), Name, new EngineOptions(MaxBatchRows: 32, BatchWindowMs: 30), ownsModel: true);
        Server = await OpenAiServer.StartAsync(Engine, "127.0.0.1", 0);
        Http.BaseAddress = Server.BaseUrl;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Engine.Dispose();
        Tiny.Dispose();
    }

    /// <summary>POSTs <paramref name="body"/> to <paramref name="path"/> (relative to /v1/) and returns status and parsed body.</summary>
    public async Task<(int Status, JsonNode? Body)> Post(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task<(int Status, JsonNode? Body)> Post(string path, JsonObject body) => Post(path, body.ToJsonString());

    public static JsonObject Chat(string user, double temperature = 0, int maxTokens = 8) => new()
    {
        ["model"] = Name,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }),
        ["temperature"] = temperature,
        ["max_tokens"] = maxTokens,
    };
}
