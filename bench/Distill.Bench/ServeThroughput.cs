using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Distill.Serving;
using Distill.Synthetic;
using Distill.Text;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// <c>distill serve</c> on loopback with the bundled sample teacher (samples/teacher, ~1.3M parameters, so the figures
/// show the serving overheads rather than the model): requests/s and generated tokens/s at concurrency 1, 4 and 16
/// (48 chat requests of the sample's training prompts, temperature 0.7 seeded, at most 32 new tokens), the engine's
/// mean rows per sampler batch, and the same requests sent straight to the engine (no HTTP, no JSON) so that the
/// client + HTTP overhead is the difference. Concurrency 1 and 16 straight to the engine are also the local
/// generation speeds of <c>distill generate --teacher DIR</c> at batch 1 and 16.
/// </summary>
internal static class ServeThroughput
{
    private const int Requests = 48;
    private const int MaxTokens = 32;

    public static JsonNode Run(JsonObject peak)
    {
        var root = FindRoot();
        var prompts = PromptFile.Read(Path.Combine(root, "samples", "data", "train.jsonl")).Take(Requests).ToList();
        using var engine = ServingEngine.Load(Path.Combine(root, "samples", "teacher"), CPU, ScalarType.Float32);
        var server = OpenAiServer.StartAsync(engine, "127.0.0.1", 0).GetAwaiter().GetResult();
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromMinutes(10) };
        var result = new JsonObject
        {
            ["model"] = "samples/teacher", ["requests"] = Requests, ["max_tokens"] = MaxTokens, ["temperature"] = 0.7,
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        };
        Http(http, prompts.Take(4).ToList(), 4); // warm-up: JIT, connection pool, first batches
        foreach (var concurrency in new[] { 1, 4, 16 })
        {
            var before = engine.BatchStatistics;
            var (httpSeconds, httpTokens) = Http(http, prompts, concurrency);
            var after = engine.BatchStatistics;
            var (engineSeconds, engineTokens) = Direct(engine, prompts, concurrency);
            result[$"concurrency_{concurrency}"] = new JsonObject
            {
                ["http_requests_per_s"] = Requests / httpSeconds,
                ["http_tokens_per_s"] = httpTokens / httpSeconds,
                ["engine_requests_per_s"] = Requests / engineSeconds,
                ["engine_tokens_per_s"] = engineTokens / engineSeconds,
                ["http_overhead_fraction"] = httpSeconds / engineSeconds - 1,
                ["mean_rows_per_batch"] = (double)(after.Rows - before.Rows) / Math.Max(1, after.Batches - before.Batches),
            };
        }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return result;
    }

    private static (double Seconds, long Tokens) Http(HttpClient http, List<GenerationPrompt> prompts, int concurrency)
    {
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        Parallel.ForEachAsync(prompts.Select((p, i) => (p, i)), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (item, cancel) =>
        {
            var body = new JsonObject
            {
                ["messages"] = new JsonArray([.. item.p.Messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
                ["temperature"] = 0.7, ["max_tokens"] = MaxTokens, ["seed"] = item.i,
            };
            using var response = await http.PostAsJsonAsync("chat/completions", body, cancel);
            response.EnsureSuccessStatusCode();
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel))!;
            Interlocked.Add(ref tokens, (int)json["usage"]!["completion_tokens"]!);
        }).GetAwaiter().GetResult();
        return (clock.Elapsed.TotalSeconds, tokens);
    }

    private static (double Seconds, long Tokens) Direct(ServingEngine engine, List<GenerationPrompt> prompts, int concurrency)
    {
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        Parallel.ForEachAsync(prompts.Select((p, i) => (p, i)), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (item, cancel) =>
        {
            var ids = engine.Chat.Encode(engine.Chat.Render(item.p.Messages, addGenerationPrompt: true)).Ids;
            var result = await engine.SubmitAsync(new EngineRequest { Prompt = ids, Temperature = 0.7, MaxTokens = MaxTokens, Seed = item.i }, cancel);
            Interlocked.Add(ref tokens, result.Choices.Sum(c => c.Tokens.Length));
        }).GetAwaiter().GetResult();
        return (clock.Elapsed.TotalSeconds, tokens);
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distill.sln"))) return dir.FullName;
        throw new InvalidOperationException("no Distill.sln above the bench");
    }
}
