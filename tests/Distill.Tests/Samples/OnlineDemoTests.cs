using Distill.Samples;

namespace Distill.Tests.Samples;

public sealed class OnlineDemoTests
{
    [Fact]
    public void Run_Should_Train_Three_Methods_From_One_Warm_Start_Per_Seed_And_Report_Them()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "distill-online-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DemoOptions(SampleFiles.Root, outDir, Seeds: 2, Steps: 4, GlobalBatch: 2, Hidden: 16, Layers: 1, Heads: 2,
                Intermediate: 24, TrainLimit: 6, HeldOutLimit: 3, AnswerTokens: 8);
            var runs = OnlineDemo.Run(options, TextWriter.Null);

            string[] methods = [OnlineDemo.Sft, OnlineDemo.Supervised, OnlineDemo.OnPolicy];
            Assert.Equal([.. methods, .. methods], runs.Select(r => r.Name));
            Assert.Equal([1, 1, 1, 2, 2, 2], runs.Select(r => r.Seed));
            Assert.All(runs, r => Assert.Equal(2, r.Steps));                          // S/2 after an S/2 warm start
            Assert.All(runs, r => Assert.True(double.IsFinite(r.HeldOutLoss) && r.OwnReverseKl >= 0, r.Name));
            Assert.True(File.Exists(Path.Combine(outDir, "online", "seed1", "warm", "final", "model.safetensors")));
            // The on-policy run sampled completions: its metrics count them.
            var metrics = File.ReadAllText(Path.Combine(outDir, "online", "seed1", "on-policy-kd", "metrics.jsonl"));
            Assert.Contains("\"generated_tokens\"", metrics, StringComparison.Ordinal);
            string report = File.ReadAllText(Path.Combine(outDir, OnlineDemo.ReportFile));
            Assert.Contains(OnlineDemo.Verdict(runs), report, StringComparison.Ordinal);
            Assert.Contains("| on-policy kd (λ=1) | 2 | 2 |", report, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Verdict_Should_Follow_The_Means()
    {
        OnlineDemoRun Run(string name, double answers, double kl) => new(name, 1, 10, 0.5, answers, kl);
        var wins = OnlineDemo.Verdict([Run(OnlineDemo.Sft, 0.2, 1.0), Run(OnlineDemo.Supervised, 0.3, 0.9), Run(OnlineDemo.OnPolicy, 0.4, 0.5)]);
        Assert.StartsWith("On-policy KD beats supervised KD and SFT on held-out answer accuracy (40.00 % against 30.00 % and 20.00 %), and has the lowest", wins, StringComparison.Ordinal);
        var loses = OnlineDemo.Verdict([Run(OnlineDemo.Sft, 0.5, 1.0), Run(OnlineDemo.Supervised, 0.3, 0.4), Run(OnlineDemo.OnPolicy, 0.4, 0.5)]);
        Assert.Contains("does not beat", loses, StringComparison.Ordinal);
        Assert.Contains("does not have the lowest", loses, StringComparison.Ordinal);
    }
}
