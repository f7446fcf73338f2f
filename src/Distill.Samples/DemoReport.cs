using System.Globalization;
using System.Text;
using ScottPlot;

namespace Distill.Samples;

/// <summary>The demo's side-by-side table (mean ± std over seeds), the sample-efficiency figure, report.md and its verdict.</summary>
public static class DemoReport
{
    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFile = "report.md";

    /// <summary>The figure's file name in the output folder: held-out loss and answer accuracy against steps.</summary>
    public const string PlotFile = "sample_efficiency.png";

    /// <summary>One row per model: name, steps, held-out loss, token accuracy and answer accuracy as mean ± std over seeds.</summary>
    public static IReadOnlyList<(string Name, int Steps, int Seeds, string Loss, string Accuracy, string Answers)> Table(IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return [.. runs.GroupBy(r => r.Name).Select(g => (g.Key, g.First().Steps, g.Count(), MeanStd(g.Select(r => r.HeldOutLoss), "F4"),
            MeanStd(g.Select(r => 100 * r.TokenAccuracy), "F2") + " %", MeanStd(g.Select(r => 100 * r.AnswerAccuracy), "F2") + " %"))];
    }

    /// <summary>The table as fixed-width text, for the terminal.</summary>
    public static string Text(IReadOnlyList<DemoRun> runs)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"model",-14} {"steps",6} {"seeds",5}  {"held-out loss",-20} {"token accuracy",-20} {"answer accuracy",-20}");
        foreach (var row in Table(runs))
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Name,-14} {row.Steps,6} {row.Seeds,5}  {row.Loss,-20} {row.Accuracy,-20} {row.Answers,-20}");
        return text.ToString();
    }

    /// <summary>Writes report.md and the figure into <see cref="DemoOptions.Out"/>.</summary>
    public static void Write(DemoOptions options, IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runs);
        Plot(runs, Path.Combine(options.Out, PlotFile));
        var kd = options.Kd;
        var md = new StringBuilder();
        md.AppendLine("# distill demo").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Student: hidden {options.Hidden}, {options.Layers} layers, {options.Heads} heads, mlp {options.Intermediate}; "
            + $"S = {options.Steps} steps of {options.GlobalBatch} conversations; SFT at lr {options.SftLr:G3}, KD+SFT at lr {options.KdLr:G3} "
            + $"({Distill.Losses.KdObjective.Name(kd.Kind)} on the teacher's top-{options.TopK}, kd weight {kd.KdWeight:G3}, sft weight {kd.SftWeight:G3}, "
            + $"temperature {kd.Temperature:G3}); {Start(options)}; {options.Seeds} seed(s), mean ± std.").AppendLine();
        md.AppendLine("Held-out loss is the cross-entropy per assistant token of data/heldout.jsonl (problems in neither training set); "
            + "token accuracy the fraction of those tokens the model ranks first. Answer accuracy is the fraction of the held-out questions "
            + $"whose greedy answer (at most {options.AnswerTokens} tokens) ends in the reference's final sentence \"The answer is N.\" with the same N.").AppendLine();
        md.AppendLine("| model | steps | seeds | held-out loss | token accuracy | answer accuracy |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in Table(runs))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Steps} | {row.Seeds} | {row.Loss} | {row.Accuracy} | {row.Answers} |");
        md.AppendLine().AppendLine(Verdict(runs)).AppendLine();
        md.AppendLine(EfficiencyText(runs)).AppendLine();
        if (DigitText(runs) is { Length: > 0 } digits) md.AppendLine(digits).AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![held-out loss and answer accuracy against step]({PlotFile})");
        File.WriteAllText(Path.Combine(options.Out, ReportFile), md.ToString());
    }

    /// <summary>
    /// Where the held-out loss sits, mean over seeds per model: cross-entropy on digit tokens (what decides an answer) and
    /// on the rest (the wording); empty when no run measured it.
    /// </summary>
    public static string DigitText(IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var rows = runs.Where(r => r.ByTokenKind is not null).GroupBy(r => r.Name).ToList();
        if (rows.Count == 0) return "";
        var text = new StringBuilder();
        var first = rows[0].First().ByTokenKind!;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Held-out cross-entropy by token kind (mean over seeds; {first.DigitTokens} digit tokens, {first.OtherTokens} others):");
        foreach (var g in rows)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {g.Key,-14} digits {g.Average(r => r.ByTokenKind!.Digits):F4}   other tokens {g.Average(r => r.ByTokenKind!.Other):F4}");
        return text.ToString().TrimEnd();
    }

    /// <summary>Where the students start, as one sentence for the reports of the demo's other modes.</summary>
    internal static string StartSentence(DemoOptions options)
    {
        var start = Start(options);
        return char.ToUpperInvariant(start[0]) + start[1..] + ".";
    }

    private static string Start(DemoOptions options) => options.Init == DemoInit.Pruned
        ? "every student starts from one initialisation pruned from the teacher (every n-th of its layers from the first, n = its layers / the student's, narrowed by Minitron's width pruning, "
            + $"ranked on {SampleModels.CalibrationExamples} training conversations), and each seed sets the data order shared by its runs"
        : "one shared random initialisation and data order per seed";

    /// <summary>
    /// Whether the demo's claim held, stated either way with the numbers (means over seeds): KD+SFT at 0.7·S at least as
    /// good as SFT at S on held-out loss and on answer accuracy, and KD+SFT at S better than SFT on both.
    /// </summary>
    public static string Verdict(IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        (double Loss, double Answers) Mean(string name)
        {
            var group = runs.Where(r => r.Name == name).ToList();
            return group.Count == 0 ? (double.NaN, double.NaN) : (group.Average(r => r.HeldOutLoss), group.Average(r => r.AnswerAccuracy));
        }
        var sft = Mean(Demo.Sft);
        var shortKd = Mean(Demo.KdShort);
        var fullKd = Mean(Demo.KdFull);
        bool shortLoss = shortKd.Loss <= sft.Loss, shortAnswers = shortKd.Answers >= sft.Answers;
        bool fullLoss = fullKd.Loss < sft.Loss, fullAnswers = fullKd.Answers > sft.Answers;
        bool holds = shortLoss && shortAnswers && fullLoss && fullAnswers;
        return $"KD+SFT at 70% of the steps {(shortLoss ? "matched or beat" : "did not match")} SFT at 100% on held-out loss "
            + $"({F(shortKd.Loss)} vs {F(sft.Loss)}) and {(shortAnswers ? "matched or beat" : "did not match")} it on answer accuracy "
            + $"({P(shortKd.Answers)} vs {P(sft.Answers)}); KD+SFT at 100% {(fullLoss ? "beat" : "did not beat")} SFT on held-out loss "
            + $"({F(fullKd.Loss)} vs {F(sft.Loss)}) and {(fullAnswers ? "beat" : "did not beat")} it on answer accuracy "
            + $"({P(fullKd.Answers)} vs {P(sft.Answers)}). "
            + (holds ? "The claim holds on both measures." : "The claim (KD+SFT at 70% at least as good as SFT on both measures, KD+SFT at 100% better on both) does not hold here.");
    }

    /// <summary>
    /// The fraction of S at which the mean KD+SFT curve (over seeds) first reaches the mean final SFT held-out loss and
    /// answer accuracy; null where it never does within S, or where the runs have no curves.
    /// </summary>
    public static (double SftLoss, double SftAnswers, double? LossFraction, double? AnswersFraction)? Efficiency(IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var sft = runs.Where(r => r.Name == Demo.Sft).ToList();
        var kd = runs.Where(r => r.Name == Demo.KdFull && r.Curve.Count > 0).ToList();
        if (sft.Count == 0 || kd.Count == 0) return null;
        double loss = sft.Average(r => r.HeldOutLoss), answers = sft.Average(r => r.AnswerAccuracy);
        int steps = kd[0].Steps;
        return (loss, answers,
            SampleEfficiency.FractionToMatch(SampleEfficiency.MeanCurve(kd, p => p.Loss), loss, lowerIsBetter: true, steps),
            SampleEfficiency.FractionToMatch(SampleEfficiency.MeanCurve(kd, p => p.Answers), answers, lowerIsBetter: false, steps));
    }

    // Below this answer accuracy a match is a question or two answered by chance, not a skill learnt.
    private const double FloorAnswers = 0.05;

    /// <summary>The sample-efficiency sentence of the report and the terminal.</summary>
    public static string EfficiencyText(IReadOnlyList<DemoRun> runs)
    {
        if (Efficiency(runs) is not { } e) return "Sample efficiency: no learning curves were recorded.";
        static string When(double? f) => f is { } x ? $"after {x.ToString("F2", CultureInfo.InvariantCulture)}·S steps" : "not within S steps";
        return $"Sample efficiency (mean curves over seeds, linear between measured points): KD+SFT reached SFT's final held-out loss "
            + $"({F(e.SftLoss)}) {When(e.LossFraction)} and its final answer accuracy ({P(e.SftAnswers)}) {When(e.AnswersFraction)}."
            + (e.SftAnswers < FloorAnswers ? $" SFT answers fewer than {P(FloorAnswers)} of the questions, so matching its answer accuracy says little." : "");
    }

    private static string F(double loss) => loss.ToString("F4", CultureInfo.InvariantCulture);

    private static string P(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + " %";

    // Two panels, mean over seeds per method: held-out loss (left) and answer accuracy (right) against steps; the teacher as a line.
    private static void Plot(IReadOnlyList<DemoRun> runs, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Plot loss = multiplot.GetPlot(0), answers = multiplot.GetPlot(1);
        foreach (var group in runs.Where(r => r.Curve.Count > 0).GroupBy(r => r.Name))
        {
            var members = group.ToList();
            string label = $"{group.Key} (mean of {members.Count})";
            var l = SampleEfficiency.MeanCurve(members, p => p.Loss);
            loss.Add.Scatter(l.Select(p => (double)p.Step).ToArray(), l.Select(p => p.Value).ToArray()).LegendText = label;
            var a = SampleEfficiency.MeanCurve(members, p => p.Answers);
            if (a.Count > 0)
                answers.Add.Scatter(a.Select(p => (double)p.Step).ToArray(), a.Select(p => 100 * p.Value).ToArray()).LegendText = label;
        }
        if (runs.FirstOrDefault(r => r.Name == "teacher") is { } teacher)
        {
            loss.Add.HorizontalLine(teacher.HeldOutLoss).LegendText = "teacher";
            answers.Add.HorizontalLine(100 * teacher.AnswerAccuracy).LegendText = "teacher";
        }
        // The first points sit near ln(vocab); the y range shows where the methods differ: from below the teacher to twice the worst final loss.
        var finals = runs.Where(r => r.Curve.Count > 0).Select(r => r.HeldOutLoss).DefaultIfEmpty(1).ToList();
        double floor = Math.Min(finals.Min(), runs.FirstOrDefault(r => r.Name == "teacher")?.HeldOutLoss ?? finals.Min());
        loss.Axes.SetLimitsY(0.9 * floor, 2 * finals.Max());
        loss.XLabel("optimizer step");
        loss.YLabel("held-out cross-entropy per token");
        answers.XLabel("optimizer step");
        answers.YLabel("held-out answer accuracy (%)");
        loss.ShowLegend();
        answers.ShowLegend();
        multiplot.SavePng(path, 1400, 540);
    }

    internal static string MeanStd(IEnumerable<double> values, string format)
    {
        var v = values.ToArray();
        double mean = v.Average();
        string m = mean.ToString(format, CultureInfo.InvariantCulture);
        if (v.Length < 2) return m;
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return m + " ± " + std.ToString(format, CultureInfo.InvariantCulture);
    }
}
