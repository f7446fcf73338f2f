using System.Globalization;
using System.Text;
using ScottPlot;

namespace Distill.Samples;

/// <summary>The demo's side-by-side table (mean ± std over seeds), report.md and val_loss.png.</summary>
public static class DemoReport
{
    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFile = "report.md";

    /// <summary>The plot's file name in the output folder.</summary>
    public const string PlotFile = "val_loss.png";

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
            $"{"model",-12} {"steps",6} {"seeds",5}  {"held-out loss",-20} {"token accuracy",-20} {"answer accuracy",-20}");
        foreach (var row in Table(runs))
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Name,-12} {row.Steps,6} {row.Seeds,5}  {row.Loss,-20} {row.Accuracy,-20} {row.Answers,-20}");
        return text.ToString();
    }

    /// <summary>Writes report.md and val_loss.png into <see cref="DemoOptions.Out"/>.</summary>
    public static void Write(DemoOptions options, IReadOnlyList<DemoRun> runs)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runs);
        Plot(runs, Path.Combine(options.Out, PlotFile));
        var md = new StringBuilder();
        md.AppendLine("# distill demo").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Student: hidden {options.Hidden}, {options.Layers} layers, {options.Heads} heads, mlp {options.Intermediate}; "
            + $"S = {options.Steps} steps of {options.GlobalBatch} conversations; KD+SFT = fwd_kl top-{options.TopK}, kd weight 1, sft weight 0.4; "
            + $"{options.Seeds} seed(s), mean ± std.").AppendLine();
        md.AppendLine("Held-out loss is the cross-entropy per assistant token of data/heldout.jsonl (problems never seen in training); "
            + "token accuracy the fraction of those tokens the model ranks first. Answer accuracy is the fraction of the held-out questions "
            + $"whose greedy answer (at most {options.AnswerTokens} tokens) ends in the reference's final sentence \"The answer is N.\" with the same N.").AppendLine();
        md.AppendLine("| model | steps | seeds | held-out loss | token accuracy | answer accuracy |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in Table(runs))
            md.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Steps} | {row.Seeds} | {row.Loss} | {row.Accuracy} | {row.Answers} |");
        md.AppendLine().AppendLine(Verdict(runs)).AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![validation loss against step]({PlotFile})");
        File.WriteAllText(Path.Combine(options.Out, ReportFile), md.ToString());
    }

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
        var sft = Mean("sft");
        var shortKd = Mean("kd+sft 0.7S");
        var fullKd = Mean("kd+sft S");
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

    private static string F(double loss) => loss.ToString("F4", CultureInfo.InvariantCulture);

    private static string P(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + " %";

    private static void Plot(IReadOnlyList<DemoRun> runs, string path)
    {
        var plot = new Plot();
        foreach (var run in runs.Where(r => r.Curve.Count > 0))
        {
            var line = plot.Add.Scatter(run.Curve.Select(p => (double)p.Step).ToArray(), run.Curve.Select(p => p.Loss).ToArray());
            line.LegendText = $"{run.Name} (seed {run.Seed})";
        }
        if (runs.FirstOrDefault(r => r.Name == "teacher") is { } teacher)
            plot.Add.HorizontalLine(teacher.HeldOutLoss).LegendText = "teacher";
        plot.XLabel("step");
        plot.YLabel("held-out cross-entropy per token");
        plot.ShowLegend();
        plot.SavePng(path, 900, 540);
    }

    private static string MeanStd(IEnumerable<double> values, string format)
    {
        var v = values.ToArray();
        double mean = v.Average();
        string m = mean.ToString(format, CultureInfo.InvariantCulture);
        if (v.Length < 2) return m;
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return m + " ± " + std.ToString(format, CultureInfo.InvariantCulture);
    }
}
