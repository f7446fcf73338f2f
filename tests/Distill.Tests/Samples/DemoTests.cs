using Distill.Samples;

namespace Distill.Tests.Samples;

public sealed class DemoTests
{
    [Fact]
    public void Run_Should_Train_Three_Students_From_One_Init_And_Write_The_Report()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "distill-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DemoOptions(SampleFiles.Root, outDir, Steps: 4, GlobalBatch: 4, TopK: 5, Hidden: 16, Layers: 1, Heads: 2,
                Intermediate: 24, TrainLimit: 12, HeldOutLimit: 6);
            var runs = Demo.Run(options, TextWriter.Null);

            Assert.Equal(["teacher", "sft", "kd+sft 0.7S", "kd+sft S"], runs.Select(r => r.Name));
            Assert.Equal([0, 4, 3, 4], runs.Select(r => r.Steps));
            Assert.All(runs, r => Assert.True(double.IsFinite(r.HeldOutLoss) && r.HeldOutLoss > 0, r.Name));
            Assert.All(runs, r => Assert.InRange(r.TokenAccuracy, 0, 1));
            // Validation every max(1, S/10) = 1 step: one held-out point per step, the last at the run's final step.
            Assert.All(runs.Skip(1), r => Assert.Equal(Enumerable.Range(1, r.Steps), r.Curve.Select(p => p.Step)));
            Assert.All(runs.Skip(1), r => Assert.Equal(r.HeldOutLoss, r.Curve[^1].Loss, 6));
            // The three students start from one initialisation, so their first optimizer step sees the same weights.
            Assert.True(File.Exists(Path.Combine(outDir, "seed1", "init", "model.safetensors")));
            Assert.Single(Directory.GetDirectories(Path.Combine(outDir, "seed1"), "init"));
            string report = File.ReadAllText(Path.Combine(outDir, DemoReport.ReportFile));
            Assert.Contains("| kd+sft 0.7S | 3 | 1 |", report, StringComparison.Ordinal);
            Assert.Contains("KD+SFT at 70% of the steps", report, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(outDir, DemoReport.PlotFile)).Length > 1000);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Table_Should_Report_Mean_And_Sample_Std_Over_Seeds()
    {
        // Losses 1, 2, 3 → mean 2, sample std 1; accuracies 0.5 each → 50.00 ± 0.00 %.
        var runs = new[] { 1.0, 2.0, 3.0 }.Select((loss, i) => new DemoRun("sft", i + 1, 10, loss, 0.5, [])).ToList();
        var row = Assert.Single(DemoReport.Table(runs));
        Assert.Equal("2.0000 ± 1.0000", row.Loss);
        Assert.Equal("50.00 ± 0.00 %", row.Accuracy);
        Assert.Equal(3, row.Seeds);
    }

    [Fact]
    public void Verdict_Should_Say_When_The_Short_KD_Run_Did_Not_Match_SFT()
    {
        DemoRun Run(string name, double loss) => new(name, 1, 10, loss, 0.5, []);
        string verdict = DemoReport.Verdict([Run("sft", 1.0), Run("kd+sft 0.7S", 1.2), Run("kd+sft S", 0.9)]);
        Assert.Contains("did not match SFT at 100% on held-out loss (1.2000 vs 1.0000)", verdict, StringComparison.Ordinal);
        Assert.Contains("KD+SFT at 100% beat SFT (0.9000 vs 1.0000)", verdict, StringComparison.Ordinal);
    }
}
