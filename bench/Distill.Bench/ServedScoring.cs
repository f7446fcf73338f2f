using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Serving;
using Distill.Teachers;
using Distill.Text.Conversations;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Black-box top-K scoring (<c>distill topk --teacher-url</c>, <c>train --teacher-url --teacher-top-k</c>) against
/// <c>distill serve</c> on loopback with the bundled sample teacher: 48 of the sample's training conversations scored at
/// K = 20 at concurrency 1 and 16, three ways in one run — the whole client (<see cref="ServedScorer"/>: JSON request,
/// HTTP, parsing, token mapping, the round-trip check, and <see cref="ServedRows"/>), the server's own work for the same
/// requests sent straight to its engine (no HTTP, no JSON), and the white-box alternative (<see cref="TopKTeacher"/>
/// in-process, batched). <c>client_overhead_fraction</c> = client time / engine time − 1.
/// </summary>
internal static class ServedScoring
{
    private const int Examples = 48;
    private const int K = 20;

    public static JsonNode Run(JsonObject peak)
    {
        var root = ServeThroughput.FindRoot();
        var teacherDir = Path.Combine(root, "samples", "teacher");
        var chat = ChatTokenizer.Load(teacherDir);
        var examples = chat.BuildAll(ConversationReader.Open(Path.Combine(root, "samples", "data", "train.jsonl")).Read()).Take(Examples).ToList();
        using var engine = ServingEngine.Load(teacherDir, CPU, ScalarType.Float32);
        var server = OpenAiServer.StartAsync(engine, "127.0.0.1", 0).GetAwaiter().GetResult();
        using var scorer = ServedScorer.Connect(server.BaseUrl.ToString(), null, chat.Tokenizer, engine.Model.Config.VocabSize, maxConcurrency: 16);
        var result = new JsonObject
        {
            ["model"] = "samples/teacher", ["examples"] = Examples, ["tokens"] = examples.Sum(e => e.InputIds.Length), ["top_k"] = K,
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        };
        Client(scorer, examples.Take(4).ToList(), 4); // warm-up: JIT, connection pool
        Engine(engine, examples.Take(4).ToList(), 4);
        foreach (var concurrency in new[] { 1, 16 })
        {
            var client = Client(scorer, examples, concurrency);
            var own = Engine(engine, examples, concurrency);
            result[$"concurrency_{concurrency}"] = new JsonObject
            {
                ["client_s"] = client, ["engine_s"] = own, ["client_overhead_fraction"] = client / own - 1,
                ["client_tokens_per_s"] = (double)result["tokens"]!.GetValue<int>() / client,
            };
        }
        var teacher = new TopKTeacher(engine.Model, K);
        var clock = Stopwatch.StartNew();
        teacher.Compute(examples, batchTokens: 8192);
        result["white_box_s"] = clock.Elapsed.TotalSeconds;
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return result;
    }

    private static double Client(ServedScorer scorer, List<TokenizedExample> examples, int concurrency)
    {
        var clock = Stopwatch.StartNew();
        Parallel.ForEachAsync(examples, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (e, cancel) =>
        {
            var scored = await scorer.ScoreAsync(e.InputIds, K, cancel);
            ServedRows.Example(e.InputIds, e.LossMask, scored, K, scorer.Name);
        }).GetAwaiter().GetResult();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Engine(ServingEngine engine, List<TokenizedExample> examples, int concurrency)
    {
        var clock = Stopwatch.StartNew();
        Parallel.ForEachAsync(examples, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (e, cancel) =>
            await engine.SubmitAsync(new EngineRequest { Prompt = e.InputIds, MaxTokens = 1, Temperature = 0, TopLogprobs = K, ScorePrompt = true }, cancel))
            .GetAwaiter().GetResult();
        return clock.Elapsed.TotalSeconds;
    }
}
