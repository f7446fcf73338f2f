using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// <c>distill demo</c> as a library call: the bundled teacher's top-K over the training conversations, then from
/// one shared random student initialisation per seed an SFT student for S steps and KD+SFT students (fwd_kl,
/// kd weight 1, sft weight 0.4, as NeMo-Aligner's tutorial) for 0.7·S and S steps, each scored on the held-out
/// conversations by the trainer's validation (cross-entropy and token accuracy on the assistant tokens) and by greedy
/// answers to the held-out questions (answer accuracy: the answer ends in the reference's "The answer is N.").
/// </summary>
public static class Demo
{
    /// <summary>The KD+SFT objective of the demo.</summary>
    public static KdObjective KdSft { get; } = new(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);

    /// <summary>Runs the demo and writes report.md and val_loss.png into <see cref="DemoOptions.Out"/>.</summary>
    /// <param name="options">Sample folder, output folder, sizes and step budget.</param>
    /// <param name="log">One line per stage (may be <see cref="TextWriter.Null"/>).</param>
    /// <returns>The teacher's row followed by every student run.</returns>
    public static IReadOnlyList<DemoRun> Run(DemoOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        string teacher = Path.Combine(options.SampleRoot, "teacher");
        Directory.CreateDirectory(options.Out);
        string train = Subset(options, "train.jsonl", options.TrainLimit);
        string heldOut = Subset(options, "heldout.jsonl", options.HeldOutLimit);

        log.WriteLine($"[1/3] teacher top-{options.TopK} over {train} and {heldOut}");
        string cache = TopK(options, teacher, train, "cache");
        // KD runs validate on a cache (the trainer wants teacher logits when kd_weight > 0); its "sft" term is the
        // same held-out cross-entropy the SFT run reports, so all three students are scored alike.
        string heldOutCache = TopK(options, teacher, heldOut, "heldout-cache");

        var questions = ConversationReader.Open(heldOut).Read().ToList();
        var runs = new List<DemoRun> { EvaluateTeacher(options, teacher, heldOut, questions) };
        log.WriteLine($"      teacher: {Scores(runs[^1])}");
        var config = SampleModels.Config(SampleModels.VocabSize(teacher), options.Hidden, options.Layers, options.Heads, options.Intermediate);
        for (int seed = 1; seed <= options.Seeds; seed++)
        {
            string root = Path.Combine(options.Out, $"seed{seed}");
            string init = Path.Combine(root, "init");
            SampleModels.Initialise(init, config, teacher, seed);
            log.WriteLine($"[2/3] seed {seed}: student ({SampleModels.Describe(config)}) initialised in {init}");
            var plan = new (string Name, string Data, KdObjective Objective, int Steps)[]
            {
                ("sft", train, KdObjective.SftOnly, options.Steps),
                ("kd+sft 0.7S", cache, KdSft, options.ShortSteps),
                ("kd+sft S", cache, KdSft, options.Steps),
            };
            foreach (var (name, data, objective, steps) in plan)
            {
                string dir = Path.Combine(root, name.Replace(' ', '-').Replace('+', '_').Replace('.', '_'));
                runs.Add(TrainStudent(options, name, seed, init, data, (heldOut, heldOutCache, questions), objective, steps, dir));
                log.WriteLine($"      {name,-12} {steps,5} steps: {Scores(runs[^1])}");
            }
        }
        log.WriteLine("[3/3] report");
        DemoReport.Write(options, runs);
        return runs;
    }

    private static string Subset(DemoOptions options, string name, int? limit)
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

    private static string Scores(DemoRun run) => string.Create(CultureInfo.InvariantCulture,
        $"held-out loss {run.HeldOutLoss:F4}, token accuracy {run.TokenAccuracy:P1}, answer accuracy {run.AnswerAccuracy:P1}");

    private static DemoRun EvaluateTeacher(DemoOptions options, string teacher, string heldOut, IReadOnlyList<Conversation> questions)
    {
        using var model = HfModelFolder.Load(teacher, CPU, ScalarType.Float32);
        model.eval();
        var source = TrainingData.Open(heldOut, new DataOptions(), teacher);
        var result = Validator.Run(model, source, KdObjective.SftOnly, microBatch: 16, chunkSize: 1024);
        return new DemoRun("teacher", 0, 0, result.Sft, result.Accuracy, AnswerAccuracy(model, teacher, heldOut, questions, options), []);
    }

    // Greedy answers (KV cache) to the held-out questions, scored by the number in their final "The answer is N.".
    private static double AnswerAccuracy(LlamaForCausalLM model, string folder, string heldOut, IReadOnlyList<Conversation> questions, DemoOptions options)
    {
        var chat = ChatTokenizer.Load(folder);
        var score = GenerationEval.Run(model, chat, questions, options.AnswerTokens, GenerationEval.StopIds(model.Config, chat));
        return score.FinalAnswerCorrect
            ?? throw new InvalidDataException($"{heldOut}: no assistant answer ends in a final answer such as \"The answer is 42.\"");
    }

    private static DemoRun TrainStudent(DemoOptions o, string name, long seed, string init, string data,
        (string File, string Cache, IReadOnlyList<Conversation> Questions) heldOut, KdObjective objective, int steps, string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var config = new TrainConfig(
            new ModelOptions(Student: init),
            new DataOptions(Path: data, ValData: heldOut.Cache),
            objective,
            new OptimizerOptions(Lr: o.Lr, WarmupSteps: Math.Max(1, steps / 20)),
            new TrainerOptions(Out: dir, Steps: steps, GlobalBatch: o.GlobalBatch, MicroBatch: o.GlobalBatch, Seed: seed,
                ValInterval: Math.Max(1, o.Steps / 10)));
        var result = Trainer.Run(config);
        var validation = result.Validation ?? throw new InvalidOperationException($"{dir}: the trainer returned no held-out validation");
        using var model = HfModelFolder.Load(result.ModelDirectory, CPU, ScalarType.Float32);
        model.eval();
        double answers = AnswerAccuracy(model, result.ModelDirectory, heldOut.File, heldOut.Questions, o);
        return new DemoRun(name, seed, steps, validation.Sft, validation.Accuracy, answers, Curve(Path.Combine(dir, MetricsLog.FileName)));
    }

    // The held-out cross-entropy ("sft") of every validation row; for KD runs "loss" also weighs in the KD term.
    private static List<(int Step, double Loss)> Curve(string metrics) =>
        [.. MetricsLog.Read(metrics).Where(r => r["validation"] is not null)
            .Select(r => ((int)r["step"]!.GetValue<long>(), r["sft"] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN))];
}
