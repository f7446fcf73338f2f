using System.Text.Json.Nodes;
using Distill.Samples;

namespace Distill.Tests.Samples;

public sealed class SdgDemoTests
{
    [Fact]
    // One seed and one held-out question: the teacher needs its full answer length (110 tokens) for some answers to be
    // right, and each student's held-out answers then take as long.
    public void Run_Should_Generate_Three_Sets_Train_Five_Methods_From_One_Init_And_Report_Them()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "distill-sdg-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DemoOptions(SampleFiles.Root, outDir, Seeds: 1, Steps: 3, GlobalBatch: 2, TopK: 4, Hidden: 16, Layers: 1, Heads: 2,
                Intermediate: 24, TrainLimit: 5, HeldOutLimit: 1, AnswerTokens: 110);
            var result = SdgDemo.Run(options, TextWriter.Null);

            string[] methods = [SdgDemo.Sft, SdgDemo.KdSft, SdgDemo.SdgGreedy, SdgDemo.SdgSampled, SdgDemo.SdgRight];
            Assert.Equal(["teacher", .. methods], result.Runs.Select(r => r.Name));
            Assert.Equal([0, 1, 1, 1, 1, 1], result.Runs.Select(r => r.Seed));
            Assert.All(result.Runs.Skip(1), r => Assert.Equal(3, r.Steps));
            Assert.All(result.Runs, r => Assert.True(double.IsFinite(r.HeldOutLoss) && r.AnswerAccuracy is >= 0 and <= 1, r.Name));
            // The greedy set answers each of the 5 prompts once; the sampled set up to 4 times (exact duplicates dropped).
            var greedy = File.ReadAllLines(result.Sets[0].Path).Select(l => JsonNode.Parse(l)!).ToList();
            var sampled = File.ReadAllLines(result.Sets[1].Path).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(5, greedy.Select(l => (string)l["prompt_id"]!).Distinct().Count());
            Assert.Equal(5, greedy.Count);
            Assert.InRange(sampled.Count, 5, 20);
            Assert.All(greedy, l => Assert.Equal(0.0, (double)l["sampling"]!["temperature"]!));
            Assert.Equal((5, 5), (result.Sets[0].Answers, sampled.Select(l => (string)l["prompt_id"]!).Distinct().Count()));
            // The right-only set: the sampled lines that end in their prompt's reference answer (checked here by a regex of its own).
            var references = File.ReadLines(Path.Combine(outDir, "subset-train.jsonl")).Select(l => JsonNode.Parse(l)!["messages"]![1]!["content"]!.ToString()).ToList();
            var right = File.ReadAllLines(result.Sets[2].Path);
            Assert.Equal(right.Length, result.Sets[2].Answers);
            Assert.Subset(File.ReadAllLines(result.Sets[1].Path).ToHashSet(), right.ToHashSet());
            Assert.Equal(Math.Round(result.Sets[1].Right * sampled.Count), right.Length);
            static string Final(string text) => System.Text.RegularExpressions.Regex.Match(text, @"The answer is (-?\d+)\.\s*$").Groups[1].Value;
            Assert.All(right.Select(l => JsonNode.Parse(l)!), l => Assert.Equal(
                Final(references[int.Parse(((string)l["prompt_id"]!)[1..].Split('-')[0]) - 1]), Final(l["messages"]![1]!["content"]!.ToString())));
            // The KD-SDG students trained on the generated file, the SFT student on the references.
            Assert.Contains(result.Sets[0].Path, File.ReadAllText(Path.Combine(outDir, "sdg", "seed1", "kd_sdg_greedy", "train_config.yaml")), StringComparison.Ordinal);
            string report = File.ReadAllText(Path.Combine(outDir, SdgDemo.ReportFile));
            Assert.Contains(SdgDemo.Verdict(result.Runs), report, StringComparison.Ordinal);
            Assert.Contains("| kd-sdg sampled right | 3 | 1 |", report, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Verdict_Should_Count_A_Difference_Only_Beyond_The_Spread_Of_Seeds()
    {
        DemoRun Run(string name, int seed, double loss, double answers) => new(name, seed, 10, loss, 0.5, answers, []);
        // Answers in %: sdg 30 ± 0, sft 20 ± 0, kd+sft 30 ± 14.14 (seeds 20, 40); loss: sdg 0.5, sft 0.6, kd+sft 0.4 ± 0.
        var verdict = SdgDemo.Verdict([
            Run(SdgDemo.Sft, 1, 0.6, 0.2), Run(SdgDemo.Sft, 2, 0.6, 0.2),
            Run(SdgDemo.KdSft, 1, 0.4, 0.2), Run(SdgDemo.KdSft, 2, 0.4, 0.4),
            Run(SdgDemo.SdgGreedy, 1, 0.5, 0.3), Run(SdgDemo.SdgGreedy, 2, 0.5, 0.3)]);
        Assert.Equal("kd-sdg greedy: held-out answer accuracy 30.00 ± 0.00 %, better than SFT's 20.00 ± 0.00 % and within the spread of KD+SFT's 30.00 ± 14.14 %; "
            + "held-out loss 0.5000 ± 0.0000, better than SFT's 0.6000 ± 0.0000 and worse than KD+SFT's 0.4000 ± 0.0000. "
            + "(A difference counts only beyond the two methods' standard deviations over seeds together.)", verdict);
    }
}
