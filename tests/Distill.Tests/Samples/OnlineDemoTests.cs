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
    public void Verdict_Should_Count_A_Difference_Only_Beyond_The_Spread_Of_Seeds()
    {
        OnlineDemoRun Run(string name, int seed, double answers, double kl) => new(name, seed, 10, 0.5, answers, kl);
        // Answers in %: on-policy 40 ± 0, supervised 30 ± 0, sft 20 ± 0; reverse KL 0.5, 0.9, 1.0 (no spread): both hold.
        var wins = OnlineDemo.Verdict([Run(OnlineDemo.Sft, 1, 0.2, 1.0), Run(OnlineDemo.Supervised, 1, 0.3, 0.9), Run(OnlineDemo.OnPolicy, 1, 0.4, 0.5)]);
        Assert.Equal("On-policy KD beats supervised KD and SFT on held-out answer accuracy in % (40.00 ± 0.00 against 30.00 ± 0.00 and 20.00 ± 0.00); "
            + "it has a lower value than both for the reverse KL to the teacher on its own answers (0.5000 ± 0.0000 against 0.9000 ± 0.0000 and 1.0000 ± 0.0000).", wins);
        // On-policy 35 ± 7.07 (seeds 30, 40) against 30 ± 0: the 5-point gap is inside the spread.
        var noisy = OnlineDemo.Verdict([Run(OnlineDemo.Sft, 1, 0.2, 1.0), Run(OnlineDemo.Supervised, 1, 0.3, 0.9),
            Run(OnlineDemo.OnPolicy, 1, 0.3, 0.5), Run(OnlineDemo.OnPolicy, 2, 0.4, 0.5)]);
        Assert.StartsWith("On-policy KD does not clearly beat both (within the spread of seeds, or worse) on held-out answer accuracy in % (35.00 ± 7.07", noisy, StringComparison.Ordinal);
        Assert.Contains("it has a lower value than both", noisy, StringComparison.Ordinal);
    }
}
