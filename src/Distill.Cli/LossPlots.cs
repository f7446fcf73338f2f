using System.Text.Json.Nodes;
using Distill.Training;
using ScottPlot;

namespace Distill.Cli;

/// <summary>
/// PNG curves from <c>metrics.jsonl</c>, drawn headless with ScottPlot: <c>loss.png</c> (training loss, KD and SFT
/// per step, validation loss as markers) and <c>lr.png</c> (the learning rate per step). <c>distill train</c> draws them
/// into its output folder after the run; the plotting package stays out of the core library.
/// </summary>
public static class LossPlots
{
    /// <summary>The loss curves' file name.</summary>
    public const string LossFile = "loss.png";

    /// <summary>The learning-rate curve's file name.</summary>
    public const string LrFile = "lr.png";

    /// <summary>
    /// Draws both plots and says so in one line, or why they were skipped: plots are a convenience, so a machine without
    /// the native drawing library still gets its trained model.
    /// </summary>
    public static string TryWrite(string outDir)
    {
        try
        {
            return "plots: " + string.Join(", ", Write(outDir));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            return $"plots skipped: {e.Message}";
        }
    }

    /// <summary>Draws both plots into <paramref name="outDir"/> from its metrics log; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string outDir)
    {
        var rows = MetricsLog.Read(Path.Combine(outDir, MetricsLog.FileName));
        var steps = rows.Where(r => r["validation"] is null).ToArray();
        var validations = rows.Where(r => r["validation"] is not null).ToArray();
        if (steps.Length == 0) return [];
        var loss = new Plot();
        AddLine(loss, steps, "loss", "loss");
        AddLine(loss, steps, "kd", "KD");
        AddLine(loss, steps, "sft", "SFT (CE)");
        if (validations.Length > 0)
        {
            var markers = loss.Add.ScatterPoints(Column(validations, "step"), Column(validations, "loss"));
            markers.LegendText = "validation loss";
            markers.MarkerSize = 8;
        }
        loss.XLabel("step");
        loss.YLabel("per-token loss");
        loss.ShowLegend();
        var lr = new Plot();
        AddLine(lr, steps, "lr", "learning rate");
        lr.XLabel("step");
        lr.YLabel("learning rate");
        var files = new[] { Path.Combine(outDir, LossFile), Path.Combine(outDir, LrFile) };
        loss.SavePng(files[0], 900, 540);
        lr.SavePng(files[1], 900, 360);
        return files;
    }

    private static void AddLine(Plot plot, JsonObject[] rows, string key, string label)
    {
        var line = plot.Add.Scatter(Column(rows, "step"), Column(rows, key));
        line.LegendText = label;
        line.MarkerSize = 0;
    }

    // Non-finite values were logged as null; they become gaps (NaN) in the curve.
    private static double[] Column(JsonObject[] rows, string key) =>
        rows.Select(r => r[key] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN).ToArray();
}
