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
/// in-process, batched). Rounds of all five passes (<c>DISTILL_BENCH_SCORING_ROUNDS</c>, default 5): a single pass of
/// the small sample model takes well under a second, so the machine's other load moves one sample by 2× or more; times
/// are medians and the ratios to the white-box pass medians of per-round ratios, in wall and process CPU time.
/// <c>scoring_alone</c> times the engine's scoring step by itself (<see cref="Scoring.ScoreRows"/>, no sampling): the
/// examples in groups of 16 rows against one row per call.
/// <c>client_overhead_fraction</c> = client time / engine time − 1.
/// </summary>
internal static class ServedScoring
{
    private const int Examples = 48;
    private const int K = 20;
    private const string RoundsVariable = "DISTILL_BENCH_SCORING_ROUNDS";

    public static JsonNode Run(JsonObject peak)
    {
        var root = ServeThroughput.FindRoot();
        var teacherDir = Path.Combine(root, "samples", "teacher");
        var chat = ChatTokenizer.Load(teacherDir);
        var examples = chat.BuildAll(ConversationReader.Open(Path.Combine(root, "samples", "data", "train.jsonl")).Read()).Take(Examples).ToList();
        using var engine = ServingEngine.Load(teacherDir, CPU, ScalarType.Float32);
        var server = OpenAiServer.StartAsync(engine, "127.0.0.1", 0).GetAwaiter().GetResult();
        using var scorer = ServedScorer.Connect(server.BaseUrl.ToString(), null, chat.Tokenizer, engine.Model.Config.VocabSize, maxConcurrency: 16);
        var teacher = new TopKTeacher(engine.Model, K);
        var rounds = int.TryParse(Environment.GetEnvironmentVariable(RoundsVariable), out var r) && r > 0 ? r : 5;
        var result = new JsonObject
        {
            ["model"] = "samples/teacher", ["examples"] = Examples, ["tokens"] = examples.Sum(e => e.InputIds.Length), ["top_k"] = K,
            ["rounds"] = rounds, ["rounds_set_by"] = RoundsVariable,
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        };
        Client(scorer, examples.Take(4).ToList(), 4); // warm-up: JIT, connection pool
        Engine(engine, examples.Take(4).ToList(), 4);
        teacher.Compute(examples.Take(4).ToList(), batchTokens: 8192);
        var samples = new Dictionary<string, List<(double Wall, double Cpu)>>();
        void Add(string name, Action pass) => (samples.TryGetValue(name, out var list) ? list : samples[name] = []).Add(Time(pass));
        for (var round = 0; round < rounds; round++)
        {
            foreach (var concurrency in new[] { 1, 16 })
            {
                Add($"client_{concurrency}", () => Client(scorer, examples, concurrency));
                Add($"engine_{concurrency}", () => Engine(engine, examples, concurrency));
            }
            Add("white_box", () => teacher.Compute(examples, batchTokens: 8192));
            Add("scoring_batched", () => ScoreInGroups(engine, examples, 16));
            Add("scoring_per_row", () => ScoreInGroups(engine, examples, 1));
        }
        var white = samples["white_box"];
        Spread Ratio(string name, Func<(double Wall, double Cpu), double> part, List<(double Wall, double Cpu)>? over = null) =>
            Spread.Of(samples[name].Zip(over ?? white, (a, b) => part(a) / part(b)));
        foreach (var concurrency in new[] { 1, 16 })
        {
            var (client, own) = (samples[$"client_{concurrency}"], samples[$"engine_{concurrency}"]);
            result[$"concurrency_{concurrency}"] = new JsonObject
            {
                ["client_s"] = Spread.Of(client.Select(s => s.Wall)).Median, ["engine_s"] = Spread.Of(own.Select(s => s.Wall)).Median,
                ["client_overhead_fraction"] = Ratio($"client_{concurrency}", s => s.Wall, own).Median - 1,
                ["client_tokens_per_s"] = (double)result["tokens"]!.GetValue<int>() / Spread.Of(client.Select(s => s.Wall)).Median,
                ["client_over_white_box"] = Ratio($"client_{concurrency}", s => s.Wall).ToJson(),
                ["engine_over_white_box"] = Ratio($"engine_{concurrency}", s => s.Wall).ToJson(),
                ["engine_over_white_box_cpu"] = Ratio($"engine_{concurrency}", s => s.Cpu).ToJson(),
            };
        }
        result["white_box_s"] = Spread.Of(white.Select(s => s.Wall)).Median;
        result["scoring_alone"] = new JsonObject
        {
            ["batched_s"] = Spread.Of(samples["scoring_batched"].Select(s => s.Wall)).Median,
            ["per_row_s"] = Spread.Of(samples["scoring_per_row"].Select(s => s.Wall)).Median,
            ["per_row_over_batched"] = Ratio("scoring_per_row", s => s.Wall, samples["scoring_batched"]).ToJson(),
            ["per_row_over_batched_cpu"] = Ratio("scoring_per_row", s => s.Cpu, samples["scoring_batched"]).ToJson(),
        };
        result["load_average_after"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return result;
    }

    // Wall seconds and this process's CPU seconds (all threads: the engine's, libtorch's, the server's and the client's).
    private static (double Wall, double Cpu) Time(Action pass)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        pass();
        return (clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    // The engine's scoring step alone, on its model while the engine is idle: the examples in groups of `rows` (16: one batch at
    // concurrency 16; 1: one forward pass per request, as before the engine batched its scoring).
    private static void ScoreInGroups(ServingEngine engine, List<TokenizedExample> examples, int rows)
    {
        foreach (var group in examples.Chunk(rows))
            Scoring.ScoreRows(engine.Model, [.. group.Select(e => e.InputIds)], [.. group.Select(_ => K)]);
    }

    private static void Client(ServedScorer scorer, List<TokenizedExample> examples, int concurrency) =>
        Parallel.ForEachAsync(examples, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (e, cancel) =>
        {
            var scored = await scorer.ScoreAsync(e.InputIds, K, cancel);
            ServedRows.Example(e.InputIds, e.LossMask, scored, K, scorer.Name);
        }).GetAwaiter().GetResult();

    private static void Engine(ServingEngine engine, List<TokenizedExample> examples, int concurrency) =>
        Parallel.ForEachAsync(examples, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (e, cancel) =>
            await engine.SubmitAsync(new EngineRequest { Prompt = e.InputIds, MaxTokens = 1, Temperature = 0, TopLogprobs = K, ScorePrompt = true }, cancel))
            .GetAwaiter().GetResult();
}
