using Distill.Samples;

namespace Distill.Tests.Samples;

public sealed class BlackBoxDemoTests
{
    [Fact]
    public void Run_Should_Train_On_Both_Caches_Per_Seed_And_Find_Them_Equal()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "distill-black-box-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DemoOptions(SampleFiles.Root, outDir, Seeds: 2, Steps: 3, GlobalBatch: 2, Hidden: 16, Layers: 1, Heads: 2,
                Intermediate: 24, TrainLimit: 4, HeldOutLimit: 2, AnswerTokens: 8);

            var (runs, caches) = BlackBoxDemo.Run(options, TextWriter.Null);

            Assert.Equal([BlackBoxDemo.WhiteBox, BlackBoxDemo.BlackBox, BlackBoxDemo.WhiteBox, BlackBoxDemo.BlackBox], runs.Select(r => r.Name));
            Assert.True(caches.Rows > 0);
            Assert.True(caches.SameIds >= caches.Rows * 0.99, $"{caches.SameIds}/{caches.Rows}");
            Assert.True(caches.MaxLogitDifference < 1e-4, caches.MaxLogitDifference.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Same initialisation, same data order, caches equal to rounding: the two students end alike.
            foreach (var seed in new[] { 1, 2 })
            {
                var (w, b) = (runs.Single(r => r.Seed == seed && r.Name == BlackBoxDemo.WhiteBox), runs.Single(r => r.Seed == seed && r.Name == BlackBoxDemo.BlackBox));
                Assert.Equal(w.HeldOutLoss, b.HeldOutLoss, 3);
            }
            Assert.Contains("| black-box top-20 | 3 | 2 |", File.ReadAllText(Path.Combine(outDir, BlackBoxDemo.ReportFile)), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
