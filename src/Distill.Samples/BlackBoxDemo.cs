using System.Diagnostics;
using System.Globalization;
using System.Text;
using Distill.Evaluation;
using Distill.LogitCache;
using Distill.Losses;
using Distill.Models;
using Distill.Serving;
using Distill.Teachers;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>One student of the black-box comparison.</summary>
/// <param name="Name">"white-box top-20" or "black-box top-20".</param>
/// <param name="Seed">The student seed.</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="HeldOutLoss">Cross-entropy per held-out reference token.</param>
/// <param name="AnswerAccuracy">Fraction of held-out questions answered right by greedy decoding.</param>
public sealed record BlackBoxDemoRun(string Name, long Seed, int Steps, double HeldOutLoss, double AnswerAccuracy);

/// <summary>What the two teacher passes cost and how far apart their caches are.</summary>
/// <param name="WhiteBoxSeconds">The local <c>topk</c> over the training data.</param>
/// <param name="BlackBoxSeconds">The same through <c>distill serve</c> on loopback (<c>topk --teacher-url</c>).</param>
/// <param name="Rows">Supervised rows compared.</param>
/// <param name="SameIds">Rows whose K ids agree in order.</param>
/// <param name="MaxLogitDifference">Largest |difference| of a stored logit or logsumexp between the caches, over rows with the same ids.</param>
public sealed record BlackBoxCaches(double WhiteBoxSeconds, double BlackBoxSeconds, long Rows, long SameIds, double MaxLogitDifference);

/// <summary>
/// <c>distill demo --black-box</c>: KD from a teacher whose weights the student's side does not have. The sample teacher is
/// served by <c>distill serve</c> on a loopback port; its top-20 log-probabilities of the training data become a cache
/// (<c>topk --teacher-url</c>, K = 20 being OpenAI's limit) beside the white-box top-20 cache of the same model. Per seed,
/// one student initialisation trains KD+SFT (the demo's objective, S steps) on each cache, and both are scored on the
/// held-out conversations: cross-entropy and greedy answer accuracy. The two caches hold the same numbers up to fp32
/// rounding (<see cref="ServedRows"/>), so the students should agree to within the noise of floating-point summation.
/// </summary>
public static class BlackBoxDemo
{
    /// <summary>The run names, in table order.</summary>
    public const string WhiteBox = "white-box top-20", BlackBox = "black-box top-20";

    /// <summary>K: the most top log-probabilities OpenAI returns.</summary>
    public const int K = RemoteTeacher.MaxTopK;

    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFile = "report-black-box.md";

    /// <summary>Runs the comparison and writes <see cref="ReportFile"/> into the output folder.</summary>
    public static (IReadOnlyList<BlackBoxDemoRun> Runs, BlackBoxCaches Caches) Run(DemoOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        var teacher = Path.Combine(options.SampleRoot, "teacher");
        Directory.CreateDirectory(options.Out);
        var (train, heldOut) = (Demo.Subset(options, "train.jsonl", options.TrainLimit), Demo.Subset(options, "heldout.jsonl", options.HeldOutLimit));
        var white = Path.Combine(options.Out, "black-box", "white-cache");
        var black = Path.Combine(options.Out, "black-box", "black-cache");
        // Each KD run validates on a held-out cache of its own teacher (the trainer refuses a mix); the held-out
        // cross-entropy reported does not depend on it.
        var (whiteHeldOut, blackHeldOut) = (Path.Combine(options.Out, "black-box", "white-heldout"), Path.Combine(options.Out, "black-box", "black-heldout"));
        var whiteSeconds = TopK(new TopKOptions { Teacher = teacher, Data = train, Output = white, TopK = K });
        TopK(new TopKOptions { Teacher = teacher, Data = heldOut, Output = whiteHeldOut, TopK = K });
        double blackSeconds;
        using (var engine = ServingEngine.Load(teacher, CPU, ScalarType.Float32, modelName: "sample-teacher"))
        {
            var server = OpenAiServer.StartAsync(engine, "127.0.0.1", 0).GetAwaiter().GetResult();
            try
            {
                blackSeconds = TopK(new TopKOptions { TeacherUrl = server.BaseUrl.ToString(), Tokenizer = teacher, Data = train, Output = black, TopK = K });
                TopK(new TopKOptions { TeacherUrl = server.BaseUrl.ToString(), Tokenizer = teacher, Data = heldOut, Output = blackHeldOut, TopK = K });
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        var caches = Compare(white, black) with { WhiteBoxSeconds = whiteSeconds, BlackBoxSeconds = blackSeconds };
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed:m\\:ss} caches: white-box {whiteSeconds:F1} s, black-box through distill serve {blackSeconds:F1} s; "
            + $"{caches.SameIds}/{caches.Rows} rows with the same ids, largest logit difference {caches.MaxLogitDifference:G3}"));
        var chat = ChatTokenizer.Load(teacher);
        var questions = ConversationReader.Open(heldOut).Read().ToList();
        var config = SampleModels.Config(SampleModels.VocabSize(teacher), options.Hidden, options.Layers, options.Heads, options.Intermediate);
        var runs = new List<BlackBoxDemoRun>();
        for (int seed = 1; seed <= options.Seeds; seed++)
        {
            string root = Path.Combine(options.Out, "black-box", $"seed{seed}");
            string init = SampleModels.StudentStart(options.Init, Path.Combine(options.Out, "black-box"), teacher, train, config, seed);
            foreach (var (name, cache, heldOutCache) in new[] { (WhiteBox, white, whiteHeldOut), (BlackBox, black, blackHeldOut) })
            {
                var result = Train(options, Path.Combine(root, name == WhiteBox ? "white" : "black"), init, cache, heldOutCache, seed);
                var v = result.Validation ?? throw new InvalidOperationException($"{root}: the trainer returned no held-out validation");
                using var model = HfModelFolder.Load(result.ModelDirectory, CPU, ScalarType.Float32);
                model.eval();
                var answers = SampleAnswers.Accuracy(model, chat, questions, options.AnswerTokens, GenerationEval.StopIds(model.Config, chat));
                runs.Add(new BlackBoxDemoRun(name, seed, options.Steps, v.Sft, answers));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed:m\\:ss} seed {seed}/{options.Seeds} {name,-17} {options.Steps,5} steps: held-out loss {v.Sft:F4}, answer accuracy {answers:P1}"));
            }
        }
        File.WriteAllText(Path.Combine(options.Out, ReportFile), Report(options, runs, caches));
        return (runs, caches);
    }

    /// <summary>The table (mean ± std over seeds) and the two teacher passes, as markdown.</summary>
    public static string Report(DemoOptions options, IReadOnlyList<BlackBoxDemoRun> runs, BlackBoxCaches caches)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(caches);
        var md = new StringBuilder();
        md.AppendLine("# distill demo --black-box").AppendLine();
        md.AppendLine(FormattableString.Invariant($"Per seed: one student (hidden {options.Hidden}, {options.Layers} layers) trained {options.Steps} steps of KD+SFT ")
            + FormattableString.Invariant($"({KdObjective.Name(options.Kd.Kind)}, sft weight {options.Kd.SftWeight:G3}, lr {options.KdLr:G3}, batch {options.GlobalBatch}) on each cache; ")
            + FormattableString.Invariant($"{options.Seeds} seed(s), mean ± std. The black-box cache is the sample teacher's top-{K} log-probabilities from distill serve on loopback.")).AppendLine();
        md.AppendLine(DemoReport.StartSentence(options)).AppendLine();
        md.AppendLine("| teacher | steps | seeds | held-out loss | answer accuracy |").AppendLine("|---|---:|---:|---:|---:|");
        foreach (var g in runs.GroupBy(r => r.Name))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {g.First().Steps} | {g.Count()} | {DemoReport.MeanStd(g.Select(r => r.HeldOutLoss), "F4")} | "
                + $"{DemoReport.MeanStd(g.Select(r => 100 * r.AnswerAccuracy), "F2")} % |");
        md.AppendLine().AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Teacher pass over the training data: white-box {caches.WhiteBoxSeconds:F1} s, black-box {caches.BlackBoxSeconds:F1} s "
            + $"({caches.BlackBoxSeconds / caches.WhiteBoxSeconds:F2}×). Caches: {caches.SameIds} of {caches.Rows} rows with the same {K} ids in the same order; "
            + $"largest |difference| of a stored logit or logsumexp {caches.MaxLogitDifference:G3}."));
        return md.ToString();
    }

    private static double TopK(TopKOptions options)
    {
        if (Directory.Exists(options.Output)) Directory.Delete(options.Output, recursive: true);
        var clock = Stopwatch.StartNew();
        TopKRunner.Run(options);
        return clock.Elapsed.TotalSeconds;
    }

    private static BlackBoxCaches Compare(string white, string black)
    {
        using var a = LogitCacheReader.Open(white);
        using var b = LogitCacheReader.Open(black);
        long rows = 0, same = 0;
        double max = 0;
        for (long i = 0; i < a.ExampleCount; i++)
        {
            var (x, y) = (a.Example(i).ToExample(), b.Example(i).ToExample());
            for (var r = 0; r < x.Rows; r++)
            {
                rows++;
                if (!x.TopKIds.AsSpan(r * K, K).SequenceEqual(y.TopKIds.AsSpan(r * K, K))) continue;
                same++;
                max = Math.Max(max, Math.Abs(x.LogSumExp[r] - y.LogSumExp[r]));
                for (var k = 0; k < K; k++) max = Math.Max(max, Math.Abs(x.TopKLogits[r * K + k] - y.TopKLogits[r * K + k]));
            }
        }
        return new BlackBoxCaches(0, 0, rows, same, max);
    }

    private static TrainResult Train(DemoOptions o, string dir, string student, string cache, string heldOutCache, long seed)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var config = new TrainConfig(
            new ModelOptions(Student: student),
            new DataOptions(Path: cache, ValData: heldOutCache),
            o.Kd,
            new OptimizerOptions(Lr: o.KdLr, WarmupSteps: Math.Max(1, o.Steps / 20)),
            new TrainerOptions(Out: dir, Steps: o.Steps, GlobalBatch: o.GlobalBatch, MicroBatch: o.GlobalBatch, Seed: seed));
        return Trainer.Run(config);
    }
}
