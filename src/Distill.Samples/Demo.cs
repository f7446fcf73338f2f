using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Text;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// <c>distill demo</c> as a library call: the bundled teacher's top-K over the student's training conversations, then
/// from one shared student start (<see cref="SampleModels.StudentStart"/>: pruned from the teacher, or random per seed)
/// and, per seed, one data order, an SFT student for S
/// steps and KD+SFT students for S and 0.7·S steps, each scored on the held-out conversations by the trainer's
/// validation (cross-entropy and token accuracy on the assistant tokens) and by greedy answers to the held-out
/// questions (answer accuracy: the answer ends in the reference's "The answer is N."). The S-step runs also record
/// learning curves: held-out loss 20 times per run, answer accuracy at <see cref="DemoOptions.CurvePoints"/> checkpoints.
/// </summary>
public static class Demo
{
    /// <summary>The run names of the comparison, in table order.</summary>
    public const string Sft = "sft", KdShort = "kd+sft 0.7S", KdFull = "kd+sft S";

    /// <summary>One student run of a plan: what it is called, how it learns and for how long.</summary>
    /// <param name="Name">The table's row name.</param>
    /// <param name="Objective">SFT only, or KD+SFT (then it trains on the teacher's cache).</param>
    /// <param name="Lr">Peak learning rate.</param>
    /// <param name="Steps">Optimizer steps.</param>
    /// <param name="TopK">Use only the cache's first K (null: all of it).</param>
    /// <param name="Curve">Record the answer-accuracy curve (checkpoints) as well as the loss curve.</param>
    public sealed record Plan(string Name, KdObjective Objective, double Lr, int Steps, int? TopK = null, bool Curve = false);

    /// <summary>Runs the demo and writes report.md and the figure into <see cref="DemoOptions.Out"/>.</summary>
    /// <param name="options">Sample folder, output folder, sizes and step budget.</param>
    /// <param name="log">One line per stage and run, with elapsed time and an estimate of the rest (may be <see cref="TextWriter.Null"/>).</param>
    /// <returns>The teacher's row followed by every student run.</returns>
    public static IReadOnlyList<DemoRun> Run(DemoOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plans = new List<Plan>
        {
            new(Sft, KdObjective.SftOnly, options.SftLr, options.Steps, Curve: true),
            new(KdShort, options.Kd, options.KdLr, options.ShortSteps),
            new(KdFull, options.Kd, options.KdLr, options.Steps, Curve: true),
        };
        plans.AddRange((options.KSweep ?? []).Select(k => new Plan($"kd+sft S K={k}", options.Kd, options.KdLr, options.Steps, TopK: k)));
        var runs = RunPlans(options, plans, log);
        log.WriteLine("report");
        DemoReport.Write(options, runs);
        return runs;
    }

    /// <summary>
    /// Evaluates the teacher, then trains every plan from each seed's shared initialisation: the demo and the sweeps
    /// behind samples/README.md's tables.
    /// </summary>
    public static IReadOnlyList<DemoRun> RunPlans(DemoOptions options, IReadOnlyList<Plan> plans, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.Out);
        var context = Prepare(options, log, clock);
        var runs = new List<DemoRun> { EvaluateTeacher(options, context) };
        log.WriteLine($"{Elapsed(clock)} teacher: {Scores(runs[^1])}");
        var config = SampleModels.Config(SampleModels.VocabSize(context.Teacher), options.Hidden, options.Layers, options.Heads, options.Intermediate);
        long total = options.Seeds * plans.Sum(p => (long)p.Steps), done = 0;
        var students = Stopwatch.StartNew();
        for (int seed = 1; seed <= options.Seeds; seed++)
        {
            string root = Path.Combine(options.Out, $"seed{seed}");
            string init = SampleModels.StudentStart(options.Init, options.Out, context.Teacher, context.Train, config, seed);
            log.WriteLine($"{Elapsed(clock)} seed {seed}/{options.Seeds}: student ({SampleModels.Describe(config)}) starts from {init}");
            foreach (var plan in plans)
            {
                string dir = Path.Combine(root, string.Concat(plan.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
                runs.Add(TrainStudent(options, context, plan, seed, init, dir));
                done += plan.Steps;
                // The estimate scales the students' time so far by the steps still to run (runs cost about their steps).
                var eta = TimeSpan.FromSeconds(students.Elapsed.TotalSeconds / done * (total - done));
                log.WriteLine($"{Elapsed(clock)}   {plan.Name,-14} {plan.Steps,5} steps: {Scores(runs[^1])}  (about {eta:m\\:ss} left)");
            }
        }
        return runs;
    }

    // The files every run shares: the (possibly shortened) data, the teacher's top-K caches, the held-out questions.
    private sealed record Context(string Teacher, string Train, string Cache, string HeldOut, string HeldOutCache,
        IReadOnlyList<Conversation> Questions, ChatTokenizer Chat);

    private static Context Prepare(DemoOptions options, TextWriter log, Stopwatch clock)
    {
        string teacher = Path.Combine(options.SampleRoot, "teacher");
        string train = Subset(options, "train.jsonl", options.TrainLimit);
        string heldOut = Subset(options, "heldout.jsonl", options.HeldOutLimit);
        log.WriteLine($"{Elapsed(clock)} teacher top-{options.TopK} over {train} and {heldOut}");
        string cache = TopK(options, teacher, train, "cache");
        // KD runs validate on a cache (the trainer wants teacher logits when kd_weight > 0); its "sft" term is the
        // same held-out cross-entropy the SFT run reports, so all students are scored alike.
        string heldOutCache = TopK(options, teacher, heldOut, "heldout-cache");
        var questions = ConversationReader.Open(heldOut).Read().ToList();
        return new Context(teacher, train, cache, heldOut, heldOutCache, questions, ChatTokenizer.Load(teacher));
    }

    /// <summary>data/<paramref name="name"/> of the sample, or its first <paramref name="limit"/> lines copied into the output folder.</summary>
    internal static string Subset(DemoOptions options, string name, int? limit)
    {
        string file = Path.Combine(options.SampleRoot, "data", name);
        if (limit is not { } n) return file;
        string subset = Path.Combine(options.Out, "subset-" + name);
        File.WriteAllLines(subset, File.ReadLines(file).Take(n));
        return subset;
    }

    private static string TopK(DemoOptions options, string teacher, string data, string name)
    {
        string cache = Path.Combine(options.Out, name);
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        TopKRunner.Run(new TopKOptions { Teacher = teacher, Data = data, Output = cache, TopK = options.TopK });
        return cache;
    }

    private static string Elapsed(Stopwatch clock) => clock.Elapsed.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static string Scores(DemoRun run) => string.Create(CultureInfo.InvariantCulture,
        $"held-out loss {run.HeldOutLoss:F4}, token accuracy {run.TokenAccuracy:P1}, answer accuracy {run.AnswerAccuracy:P1}");

    private static DemoRun EvaluateTeacher(DemoOptions options, Context context)
    {
        using var model = Load(context.Teacher);
        using var source = TrainingData.Open(context.HeldOut, new DataOptions(), context.Teacher);
        var result = Validator.Run(model, source, KdObjective.SftOnly, microBatch: 16, chunkSize: 1024);
        return new DemoRun("teacher", 0, 0, result.Sft, result.Accuracy, AnswerAccuracy(model, context, options), [])
        {
            ByTokenKind = DigitLoss.Measure(model, source, context.Chat.Tokenizer),
        };
    }

    private static LlamaForCausalLM Load(string folder)
    {
        var model = HfModelFolder.Load(folder, CPU, ScalarType.Float32);
        model.eval();
        return model;
    }

    private static DigitLoss ByTokenKind(LlamaForCausalLM model, Context context)
    {
        using var source = TrainingData.Open(context.HeldOut, new DataOptions(), context.Teacher);
        return DigitLoss.Measure(model, source, context.Chat.Tokenizer);
    }

    // Greedy answers (KV cache, batched by prompt length) to the held-out questions, scored by the number in their final "The answer is N.".
    private static double AnswerAccuracy(LlamaForCausalLM model, Context context, DemoOptions options) =>
        SampleAnswers.Accuracy(model, context.Chat, context.Questions, options.AnswerTokens, GenerationEval.StopIds(model.Config, context.Chat));

    private static double AnswerAccuracy(string folder, Context context, DemoOptions options)
    {
        using var model = Load(folder);
        return AnswerAccuracy(model, context, options);
    }

    private static DemoRun TrainStudent(DemoOptions o, Context context, Plan plan, long seed, string init, string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        bool kd = plan.Objective.KdWeight > 0;
        int saveInterval = plan.Curve ? Math.Max(1, plan.Steps / Math.Max(1, o.CurvePoints)) : 0;
        var config = new TrainConfig(
            new ModelOptions(Student: init),
            new DataOptions(Path: kd ? context.Cache : context.Train, ValData: kd ? context.HeldOutCache : context.HeldOut, TopK: plan.TopK),
            plan.Objective,
            new OptimizerOptions(Lr: plan.Lr, WarmupSteps: Math.Max(1, plan.Steps / 20)),
            new TrainerOptions(Out: dir, Steps: plan.Steps, GlobalBatch: o.GlobalBatch, MicroBatch: o.GlobalBatch, Seed: seed,
                ValInterval: Math.Max(1, o.Steps / 20), SaveInterval: saveInterval,
                // Keep them all: with saving on, every new best validation is checkpointed too, and pruning would drop the curve's.
                KeepLast: plan.Curve ? 1000 : 1));
        var result = Trainer.Run(config);
        var validation = result.Validation ?? throw new InvalidOperationException($"{dir}: the trainer returned no held-out validation");
        using var final = Load(result.ModelDirectory);
        double answers = AnswerAccuracy(final, context, o);
        var curve = LossCurve(Path.Combine(dir, MetricsLog.FileName));
        if (plan.Curve)
        {
            // Answer accuracy at each checkpoint before the end, and the final model's at the last step.
            // (The trainer also checkpoints each new best validation; only the evenly spaced ones make the curve.)
            var measured = Checkpoints.List(dir).Where(c => c.Step < plan.Steps && c.Step % saveInterval == 0)
                .ToDictionary(c => c.Step, c => AnswerAccuracy(c.Path, context, o));
            measured[plan.Steps] = answers;
            curve = [.. curve.Select(p => measured.TryGetValue(p.Step, out double a) ? p with { Answers = a } : p)];
            Directory.Delete(Checkpoints.Root(dir), recursive: true); // optimizer state and weights the report no longer needs
        }
        return new DemoRun(plan.Name, seed, plan.Steps, validation.Sft, validation.Accuracy, answers, curve)
        {
            ByTokenKind = ByTokenKind(final, context),
        };
    }

    // The held-out cross-entropy ("sft") of every validation row; for KD runs "loss" also weighs in the KD term.
    private static List<CurvePoint> LossCurve(string metrics) =>
        [.. MetricsLog.Read(metrics).Where(r => r["validation"] is not null)
            .Select(r => new CurvePoint((int)r["step"]!.GetValue<long>(), r["sft"] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN))];
}
