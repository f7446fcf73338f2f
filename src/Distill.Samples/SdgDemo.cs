using System.Diagnostics;
using System.Globalization;
using System.Text;
using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Synthetic;
using Distill.Teachers;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// <c>distill demo --sdg</c>: knowledge distillation through generated data (KD-SDG) on the bundled sample, against the
/// demo's two baselines. The sample's teacher answers the student's training prompts through <c>distill generate</c>'s
/// local path (the serving engine over the one Sampler): once greedily (its single best answer per prompt) and once
/// sampled at temperature 1, <see cref="SampledAnswers"/> answers per prompt (its distribution, as sequence-level KD
/// takes it); a third set keeps only the sampled answers whose final answer is the reference's (rejection sampling
/// against the ground truth, as math KD-SDG pipelines filter). Then per seed, from one shared initialisation and data
/// order, five students train for S steps: SFT on the reference answers, offline KD+SFT on the teacher's top-K over the
/// reference answers (the demo's objective and lr), and SFT on each set of the teacher's answers (the SFT lr). All are scored alike: the trainer's held-out cross-entropy and
/// token accuracy on the reference answers of data/heldout.jsonl and greedy held-out answer accuracy. Sizes, steps, batch,
/// learning rates and K come from <see cref="DemoOptions"/>, as for <see cref="Demo"/>.
/// </summary>
public static class SdgDemo
{
    /// <summary>The run names, in table order.</summary>
    public const string Sft = "sft", KdSft = "kd+sft", SdgGreedy = "kd-sdg greedy", SdgSampled = "kd-sdg sampled", SdgRight = "kd-sdg sampled right";

    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFile = "report-sdg.md";

    /// <summary>Teacher answers per training prompt in the sampled set.</summary>
    public const int SampledAnswers = 4;

    /// <summary>The generated sets: how each was asked for, the file, and what fraction of its answers end in the reference's final answer.</summary>
    /// <param name="Name">The run that trains on it.</param>
    /// <param name="Path">The generated JSONL (messages lines).</param>
    /// <param name="Answers">Answers written (duplicates among one prompt's answers are dropped, as <c>distill generate</c> does).</param>
    /// <param name="Right">Fraction of them whose final answer is the reference's.</param>
    public sealed record GeneratedSet(string Name, string Path, int Answers, double Right);

    /// <summary>What a run measured.</summary>
    /// <param name="Runs">The teacher's row, then every student run.</param>
    /// <param name="Sets">The generated sets: greedy, sampled, and the sampled answers that are right.</param>
    public sealed record Result(IReadOnlyList<DemoRun> Runs, IReadOnlyList<GeneratedSet> Sets);

    /// <summary>Runs the comparison and writes <see cref="ReportFile"/> into the output folder.</summary>
    public static Result Run(DemoOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        string teacher = Path.Combine(options.SampleRoot, "teacher"), root = Path.Combine(options.Out, "sdg");
        Directory.CreateDirectory(root);
        var (train, heldOut) = (Demo.Subset(options, "train.jsonl", options.TrainLimit), Demo.Subset(options, "heldout.jsonl", options.HeldOutLimit));
        var chat = ChatTokenizer.Load(teacher);
        var questions = ConversationReader.Open(heldOut).Read().ToList();
        var sampled = Generate(options, teacher, train, root, SdgSampled, SampledAnswers, 1);
        var sets = new[] { Generate(options, teacher, train, root, SdgGreedy, 1, 0), sampled, KeepRight(sampled, train, SdgRight) };
        foreach (var set in sets)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed:m\\:ss} {set.Name}: the teacher wrote {set.Answers} answers to the training prompts, {set.Right:P1} with the reference's final answer"));
        string cache = TopK(options, teacher, train, Path.Combine(root, "cache")), heldOutCache = TopK(options, teacher, heldOut, Path.Combine(root, "heldout-cache"));
        log.WriteLine($"{clock.Elapsed:m\\:ss} teacher top-{options.TopK} over {train} and {heldOut}");
        var runs = new List<DemoRun> { Evaluate("teacher", 0, 0, teacher, heldOut, null, chat, questions, options) };
        var config = SampleModels.Config(SampleModels.VocabSize(teacher), options.Hidden, options.Layers, options.Heads, options.Intermediate);
        for (int seed = 1; seed <= options.Seeds; seed++)
        {
            string init = SampleModels.StudentStart(options.Init, root, teacher, train, config, seed);
            foreach (var (name, data, validation, objective, lr) in new[]
                     {
                         (Sft, train, heldOut, KdObjective.SftOnly, options.SftLr),
                         (KdSft, cache, heldOutCache, options.Kd, options.KdLr),
                         (SdgGreedy, sets[0].Path, heldOut, KdObjective.SftOnly, options.SftLr),
                         (SdgSampled, sets[1].Path, heldOut, KdObjective.SftOnly, options.SftLr),
                         (SdgRight, sets[2].Path, heldOut, KdObjective.SftOnly, options.SftLr),
                     })
            {
                var dir = Path.Combine(root, $"seed{seed}", string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
                var result = Train(options, dir, init, data, validation, objective, lr, seed);
                var v = result.Validation ?? throw new InvalidOperationException($"{dir}: the trainer returned no held-out validation");
                runs.Add(Evaluate(name, seed, options.Steps, result.ModelDirectory, heldOut, v, chat, questions, options));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed:m\\:ss} seed {seed}/{options.Seeds} {name,-15} {options.Steps,5} steps: held-out loss {v.Sft:F4}, answer accuracy {runs[^1].AnswerAccuracy:P1}"));
            }
        }
        File.WriteAllText(Path.Combine(options.Out, ReportFile), Report(options, runs, sets));
        return new Result(runs, sets);
    }

    /// <summary>The report: settings, the generated sets, the table (mean ± std over seeds) and the verdict.</summary>
    public static string Report(DemoOptions options, IReadOnlyList<DemoRun> runs, IReadOnlyList<GeneratedSet> sets)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(sets);
        var md = new StringBuilder();
        md.AppendLine("# distill demo --sdg").AppendLine();
        md.AppendLine(FormattableString.Invariant($"Per seed, one student initialisation (hidden {options.Hidden}, {options.Layers} layers) and data order; each method trains {options.Steps} steps of {options.GlobalBatch} conversations: ")
            + FormattableString.Invariant($"SFT on the reference answers and KD-SDG (SFT on the teacher's answers to the same prompts) at lr {options.SftLr:G3}, ")
            + FormattableString.Invariant($"KD+SFT on the teacher's top-{options.TopK} of the reference answers at lr {options.KdLr:G3}; {options.Seeds} seed(s), mean ± std. ")
            + "Held-out loss and token accuracy are on the reference answers of data/heldout.jsonl; answer accuracy is greedy answers to its questions.").AppendLine();
        md.AppendLine(DemoReport.StartSentence(options)).AppendLine();
        foreach (var set in sets)
            md.AppendLine(CultureInfo.InvariantCulture, $"- {set.Name}: {set.Answers} teacher answers in {System.IO.Path.GetFileName(set.Path)}, {100 * set.Right:F1} % ending in the reference's final answer");
        md.AppendLine().AppendLine("| model | steps | seeds | held-out loss | token accuracy | answer accuracy |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in DemoReport.Table(runs))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Steps} | {row.Seeds} | {row.Loss} | {row.Accuracy} | {row.Answers} |");
        md.AppendLine().AppendLine(Verdict(runs));
        return md.ToString();
    }

    /// <summary>
    /// Each KD-SDG run against SFT and KD+SFT on held-out answer accuracy and held-out loss, stated from the numbers. A
    /// difference counts only when the means differ by more than the two methods' standard deviations over seeds together;
    /// otherwise it is called within the spread.
    /// </summary>
    public static string Verdict(IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        (double Mean, double Std) Stats(string name, Func<DemoRun, double> f)
        {
            var v = runs.Where(r => r.Name == name).Select(f).ToArray();
            if (v.Length == 0) return (double.NaN, double.NaN);
            var mean = v.Average();
            return (mean, v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0);
        }
        static string On((double Mean, double Std) s, string format) =>
            $"{s.Mean.ToString(format, CultureInfo.InvariantCulture)} ± {s.Std.ToString(format, CultureInfo.InvariantCulture)}";
        string Against(string sdg, string other, string otherName, Func<DemoRun, double> f, bool higherIsBetter, string format)
        {
            var (a, b) = (Stats(sdg, f), Stats(other, f));
            var gain = higherIsBetter ? a.Mean - b.Mean : b.Mean - a.Mean;
            var word = gain > a.Std + b.Std ? "better than" : -gain > a.Std + b.Std ? "worse than" : "within the spread of";
            return $"{word} {otherName}'s {On(b, format)}";
        }
        var sentences = new List<string>();
        foreach (var sdg in new[] { SdgGreedy, SdgSampled, SdgRight }.Where(n => runs.Any(r => r.Name == n)))
        {
            sentences.Add($"{sdg}: held-out answer accuracy {On(Stats(sdg, r => 100 * r.AnswerAccuracy), "F2")} %, "
                + $"{Against(sdg, Sft, "SFT", r => 100 * r.AnswerAccuracy, true, "F2")} % and {Against(sdg, KdSft, "KD+SFT", r => 100 * r.AnswerAccuracy, true, "F2")} %; "
                + $"held-out loss {On(Stats(sdg, r => r.HeldOutLoss), "F4")}, "
                + $"{Against(sdg, Sft, "SFT", r => r.HeldOutLoss, false, "F4")} and {Against(sdg, KdSft, "KD+SFT", r => r.HeldOutLoss, false, "F4")}.");
        }
        return string.Join(" ", sentences) + " (A difference counts only beyond the two methods' standard deviations over seeds together.)";
    }

    // The teacher's answers to the training prompts through distill generate's local path; a fresh file each run.
    private static GeneratedSet Generate(DemoOptions o, string teacher, string train, string root, string name, int n, double temperature)
    {
        var output = Path.Combine(root, $"generated-{(n == 1 ? "greedy" : "sampled")}.jsonl");
        foreach (var file in new[] { output, Path.ChangeExtension(output, ".failed.jsonl"), Path.ChangeExtension(output, ".rejected.jsonl") })
            File.Delete(file);
        var options = new GenerateOptions
        {
            Teacher = teacher, Prompts = train, Output = output, N = n, Temperature = temperature, MaxNewTokens = o.AnswerTokens, Seed = 1, Concurrency = 16,
        };
        var summary = GenerateRunner.RunAsync(options, null, default).GetAwaiter().GetResult();
        if (summary.Failed > 0) throw new InvalidDataException($"{options.FailedPath}: the sample's teacher failed {summary.Failed} training prompts");
        var scored = Score(train, output);
        return new GeneratedSet(name, output, scored.Count, scored.Count == 0 ? 0 : (double)scored.Count(a => a.Right) / scored.Count);
    }

    // The lines of a generated set whose final answer is the reference's, as a set of their own.
    private static GeneratedSet KeepRight(GeneratedSet from, string train, string name)
    {
        var right = Score(train, from.Path).Where(a => a.Right).Select(a => a.Line).ToList();
        if (right.Count == 0) throw new InvalidDataException($"{from.Path}: no answer of the teacher ends in the reference's final answer; nothing to train {name} on");
        var output = Path.ChangeExtension(from.Path, ".right.jsonl");
        File.WriteAllLines(output, right);
        return new GeneratedSet(name, output, right.Count, 1);
    }

    // Each generated line and whether its final answer is its prompt's reference's (prompts and conversations are both in file order).
    private static List<(string Line, bool Right)> Score(string train, string generated)
    {
        var references = PromptFile.Read(train).Zip(ConversationReader.Open(train).Read())
            .ToDictionary(p => p.First.Id, p => AnswerScoring.FinalAnswer(p.Second.Messages[^1].Content));
        return [.. File.ReadLines(generated).Zip(ConversationReader.Open(generated).Read()).Select(p =>
            (p.First, references[(string)System.Text.Json.Nodes.JsonNode.Parse(p.First)!["prompt_id"]!] is { } final
                && AnswerScoring.SameFinalAnswer(p.Second.Messages[^1].Content, final)))];
    }

    private static string TopK(DemoOptions options, string teacher, string data, string cache)
    {
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        TopKRunner.Run(new TopKOptions { Teacher = teacher, Data = data, Output = cache, TopK = options.TopK });
        return cache;
    }

    // The held-out row of a model: the trainer's validation when it has one (students), else the validator's (teacher).
    private static DemoRun Evaluate(string name, long seed, int steps, string folder, string heldOut, ValidationResult? validation, ChatTokenizer chat,
        IReadOnlyList<Conversation> questions, DemoOptions options)
    {
        using var model = HfModelFolder.Load(folder, CPU, ScalarType.Float32);
        model.eval();
        validation ??= Validator.Run(model, TrainingData.Open(heldOut, new DataOptions(), folder), KdObjective.SftOnly, microBatch: 16, chunkSize: 1024);
        var answers = SampleAnswers.Accuracy(model, chat, questions, options.AnswerTokens, GenerationEval.StopIds(model.Config, chat));
        return new DemoRun(name, seed, steps, validation.Sft, validation.Accuracy, answers, []);
    }

    private static TrainResult Train(DemoOptions o, string dir, string student, string data, string validation, KdObjective objective, double lr, long seed)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var config = new TrainConfig(
            new ModelOptions(Student: student),
            new DataOptions(Path: data, ValData: validation),
            objective,
            new OptimizerOptions(Lr: lr, WarmupSteps: Math.Max(1, o.Steps / 20)),
            new TrainerOptions(Out: dir, Steps: o.Steps, GlobalBatch: o.GlobalBatch, MicroBatch: o.GlobalBatch, Seed: seed));
        return Trainer.Run(config);
    }
}
