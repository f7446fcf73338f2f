using System.Diagnostics;
using System.Globalization;
using System.Text;
using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>One student of the on-policy comparison and its held-out numbers.</summary>
/// <param name="Name">"sft", "supervised kd", "on-policy kd".</param>
/// <param name="Seed">The student seed.</param>
/// <param name="Steps">Optimizer steps after the shared SFT warm start.</param>
/// <param name="HeldOutLoss">Cross-entropy per held-out reference token.</param>
/// <param name="AnswerAccuracy">Fraction of held-out questions answered right by greedy decoding.</param>
/// <param name="OwnReverseKl">Reverse KL(student‖teacher) per token of the student's own greedy held-out answers.</param>
public sealed record OnlineDemoRun(string Name, long Seed, int Steps, double HeldOutLoss, double AnswerAccuracy, double OwnReverseKl);

/// <summary>
/// <c>distill demo --online</c>: the shape of GKD's finding ("On-Policy Distillation of Language Models") on the bundled
/// sample. Per seed, one student is initialised and fine-tuned with SFT for half of S (GKD starts from an SFT student);
/// from that warm start three students train for the other half at equal optimizer steps and learning rate: SFT, supervised
/// KD on the dataset's answers (λ = 0) and on-policy KD on the student's own samples (λ = 1), both with the generalized
/// JSD(β = 0.5) over the live teacher's full vocabulary and no SFT term. All are scored alike on the held-out
/// conversations: cross-entropy, greedy answer accuracy, and the reverse KL of the student's own answers to the teacher.
/// </summary>
public static class OnlineDemo
{
    /// <summary>The run names, in table order.</summary>
    public const string Sft = "sft", Supervised = "supervised kd (λ=0)", OnPolicy = "on-policy kd (λ=1)";

    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFile = "report-online.md";

    private static readonly KdObjective Jsd = new(KdLossKind.Jsd, KdWeight: 1, SftWeight: 0, Beta: 0.5);

    /// <summary>Runs the comparison and writes <see cref="ReportFile"/> into the output folder.</summary>
    public static IReadOnlyList<OnlineDemoRun> Run(DemoOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        var teacher = Path.Combine(options.SampleRoot, "teacher");
        Directory.CreateDirectory(options.Out);
        var (train, heldOut) = (Demo.Subset(options, "train.jsonl", options.TrainLimit), Demo.Subset(options, "heldout.jsonl", options.HeldOutLimit));
        var chat = ChatTokenizer.Load(teacher);
        var questions = ConversationReader.Open(heldOut).Read().ToList();
        var config = SampleModels.Config(SampleModels.VocabSize(teacher), options.Hidden, options.Layers, options.Heads, options.Intermediate);
        int warm = options.Steps / 2, steps = options.Steps - options.Steps / 2;
        var runs = new List<OnlineDemoRun>();
        for (int seed = 1; seed <= options.Seeds; seed++)
        {
            string root = Path.Combine(options.Out, "online", $"seed{seed}");
            string init = SampleModels.StudentStart(options.Init, Path.Combine(options.Out, "online"), teacher, train, config, seed);
            var warmStart = Train(options, Path.Combine(root, "warm"), init, train, heldOut, null, KdObjective.SftOnly, options.SftLr, warm, seed, null).ModelDirectory;
            log.WriteLine($"{clock.Elapsed:m\\:ss} seed {seed}/{options.Seeds}: SFT warm start, {warm} steps");
            foreach (var (name, folder, objective, lambda) in new[] { (Sft, "sft", KdObjective.SftOnly, 0.0), (Supervised, "supervised-kd", Jsd, 0.0), (OnPolicy, "on-policy-kd", Jsd, 1.0) })
            {
                var dir = Path.Combine(root, folder);
                var result = Train(options, dir, warmStart, train, heldOut, teacher, objective, options.SftLr, steps, seed, lambda);
                var v = result.Validation ?? throw new InvalidOperationException($"{dir}: the trainer returned no held-out validation");
                using var model = HfModelFolder.Load(result.ModelDirectory, CPU, ScalarType.Float32);
                model.eval();
                var answers = SampleAnswers.Accuracy(model, chat, questions, options.AnswerTokens, GenerationEval.StopIds(model.Config, chat));
                runs.Add(new OnlineDemoRun(name, seed, steps, v.Sft, answers, v.OwnReverseKl ?? double.NaN));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed:m\\:ss}   {name,-20} {steps,5} steps: held-out loss {v.Sft:F4}, answer accuracy {answers:P1}, own-answer reverse KL {v.OwnReverseKl:F4}"));
            }
        }
        File.WriteAllText(Path.Combine(options.Out, ReportFile), Report(options, runs));
        return runs;
    }

    /// <summary>Mean ± std over seeds of each method, as markdown, with the verdict computed from the means.</summary>
    public static string Report(DemoOptions options, IReadOnlyList<OnlineDemoRun> runs)
    {
        var md = new StringBuilder();
        md.AppendLine("# distill demo --online").AppendLine();
        md.AppendLine(FormattableString.Invariant($"Per seed: one student (hidden {options.Hidden}, {options.Layers} layers), SFT for {options.Steps / 2} steps, then from that ")
            + FormattableString.Invariant($"warm start {options.Steps - options.Steps / 2} more steps of each method at lr {options.SftLr:G3}, batch {options.GlobalBatch}; {options.Seeds} seed(s), mean ± std. ")
            + "KD runs use JSD(β = 0.5) over the live teacher's full vocabulary, no SFT term; on-policy completions are sampled at temperature 1.").AppendLine();
        md.AppendLine(DemoReport.StartSentence(options)).AppendLine();
        md.AppendLine("| method | steps | seeds | held-out loss | answer accuracy | own-answer reverse KL |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var g in runs.GroupBy(r => r.Name))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {g.First().Steps} | {g.Count()} | {DemoReport.MeanStd(g.Select(r => r.HeldOutLoss), "F4")} | "
                + $"{DemoReport.MeanStd(g.Select(r => 100 * r.AnswerAccuracy), "F2")} % | {DemoReport.MeanStd(g.Select(r => r.OwnReverseKl), "F4")} |");
        md.AppendLine().AppendLine(Verdict(runs));
        return md.ToString();
    }

    /// <summary>
    /// GKD's finding stated either way from the seeds: on-policy KD beats supervised KD and SFT on held-out answer accuracy
    /// and has the lowest reverse KL to the teacher on its own answers. A difference counts only when the means differ by
    /// more than the two methods' standard deviations over seeds together; otherwise it is called within the spread.
    /// </summary>
    public static string Verdict(IReadOnlyList<OnlineDemoRun> runs)
    {
        (double Mean, double Std) Stats(string name, Func<OnlineDemoRun, double> f)
        {
            var v = runs.Where(r => r.Name == name).Select(f).ToArray();
            if (v.Length == 0) return (double.NaN, double.NaN);
            var mean = v.Average();
            return (mean, v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0);
        }
        string Compare(Func<OnlineDemoRun, double> f, bool higherIsBetter, string better, string what, string format)
        {
            var on = Stats(OnPolicy, f);
            var others = new[] { Stats(Supervised, f), Stats(Sft, f) };
            var margins = others.Select(o => (higherIsBetter ? on.Mean - o.Mean : o.Mean - on.Mean) - (on.Std + o.Std)).ToArray();
            var verdict = margins.All(m => m > 0) ? better : "does not clearly beat both (within the spread of seeds, or worse) on";
            var numbers = FormattableString.Invariant($"{On(on, format)} against {On(others[0], format)} and {On(others[1], format)}");
            return $"{verdict} {what} ({numbers})";
        }
        static string On((double Mean, double Std) s, string format) =>
            $"{s.Mean.ToString(format, CultureInfo.InvariantCulture)} ± {s.Std.ToString(format, CultureInfo.InvariantCulture)}";
        return "On-policy KD " + Compare(r => 100 * r.AnswerAccuracy, true, "beats supervised KD and SFT on", "held-out answer accuracy in %", "F2")
            + "; it " + Compare(r => r.OwnReverseKl, false, "has a lower value than both for", "the reverse KL to the teacher on its own answers", "F4") + ".";
    }

    private static TrainResult Train(DemoOptions o, string dir, string student, string train, string heldOut, string? teacher,
        KdObjective objective, double lr, int steps, long seed, double? lambda)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var config = new TrainConfig(
            new ModelOptions(Student: student, Teacher: teacher),
            new DataOptions(Path: train, ValData: heldOut),
            objective,
            new OptimizerOptions(Lr: lr, WarmupSteps: Math.Max(1, steps / 20)),
            new TrainerOptions(Out: dir, Steps: steps, GlobalBatch: o.GlobalBatch, MicroBatch: o.GlobalBatch, Seed: seed))
        { Online = new OnlineOptions(Lambda: lambda ?? 0, MaxNewTokens: o.AnswerTokens) };
        return Trainer.Run(config);
    }
}
