using System.Text.Json.Nodes;
using Distill.Generation;
using Distill.Models;
using Distill.Samples;
using Distill.Text.Conversations;
using static TorchSharp.torch;

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
            Assert.All(runs, r => Assert.InRange(r.AnswerAccuracy, 0, 1));
            Assert.Equal(TeacherAnswerAccuracy(SampleFiles.Data("heldout.jsonl"), 6, options.AnswerTokens), runs[0].AnswerAccuracy, 12);
            // Validation every max(1, S/10) = 1 step: one held-out point per step, the last at the run's final step.
            Assert.All(runs.Skip(1), r => Assert.Equal(Enumerable.Range(1, r.Steps), r.Curve.Select(p => p.Step)));
            Assert.All(runs.Skip(1), r => Assert.Equal(r.HeldOutLoss, r.Curve[^1].Loss, 6));
            // The three students start from one initialisation, so their first optimizer step sees the same weights.
            Assert.True(File.Exists(Path.Combine(outDir, "seed1", "init", "model.safetensors")));
            Assert.Single(Directory.GetDirectories(Path.Combine(outDir, "seed1"), "init"));
            string report = File.ReadAllText(Path.Combine(outDir, DemoReport.ReportFile));
            Assert.Contains("| kd+sft 0.7S | 3 | 1 |", report, StringComparison.Ordinal);
            Assert.Contains("| answer accuracy |", report, StringComparison.Ordinal);
            foreach (var row in DemoReport.Table(runs))
                Assert.Contains($"| {row.Name} | {row.Steps} | {row.Seeds} | {row.Loss} | {row.Accuracy} | {row.Answers} |", report, StringComparison.Ordinal);
            Assert.Contains("KD+SFT at 70% of the steps", report, StringComparison.Ordinal);
            Assert.Contains("on answer accuracy", report, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(outDir, DemoReport.PlotFile)).Length > 1000);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    // The independent path: greedy answers of the teacher to the first n held-out questions, right when the answer
    // ends with the reference's last sentence ("The answer is N.").
    private static double TeacherAnswerAccuracy(string heldOut, int n, int maxNewTokens)
    {
        using var teacher = HfModelFolder.Load(SampleFiles.Teacher, CPU, ScalarType.Float32);
        teacher.eval();
        var chat = ChatTokenizer.Load(SampleFiles.Teacher);
        int eos = chat.Tokenizer.TokenToId("<|im_end|>")!.Value;
        int right = 0;
        foreach (var line in File.ReadLines(heldOut).Take(n))
        {
            var messages = JsonNode.Parse(line)!["messages"]!.AsArray();
            string question = messages[0]!["content"]!.GetValue<string>(), reference = messages[1]!["content"]!.GetValue<string>();
            string prompt = $"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n";
            var tokens = Greedy.Generate(teacher, chat.Tokenizer.Encode(prompt, addSpecialTokens: false).Ids, maxNewTokens, [eos]).Tokens;
            string answer = chat.Tokenizer.Decode(tokens, skipSpecialTokens: true).Trim();
            if (answer.EndsWith(reference[reference.LastIndexOf("The answer is", StringComparison.Ordinal)..], StringComparison.Ordinal)) right++;
        }
        return (double)right / n;
    }

    [Fact]
    public void Table_Should_Report_Mean_And_Sample_Std_Over_Seeds()
    {
        // Losses 1, 2, 3 → mean 2, sample std 1; token accuracies 0.5 each → 50.00 ± 0.00 %; answers 0.2, 0.4, 0.6 → 40 ± 20 %.
        var runs = new[] { 1.0, 2.0, 3.0 }.Select((loss, i) => new DemoRun("sft", i + 1, 10, loss, 0.5, 0.2 * (i + 1), [])).ToList();
        var row = Assert.Single(DemoReport.Table(runs));
        Assert.Equal("2.0000 ± 1.0000", row.Loss);
        Assert.Equal("50.00 ± 0.00 %", row.Accuracy);
        Assert.Equal("40.00 ± 20.00 %", row.Answers);
        Assert.Equal(3, row.Seeds);
    }

    private static DemoRun Run(string name, double loss, double answers) => new(name, 1, 10, loss, 0.5, answers, []);

    [Fact]
    public void Verdict_Should_State_Each_Measure_When_They_Disagree()
    {
        string verdict = DemoReport.Verdict([Run("sft", 1.0, 0.5), Run("kd+sft 0.7S", 1.2, 0.6), Run("kd+sft S", 0.9, 0.45)]);

        Assert.Contains("KD+SFT at 70% of the steps did not match SFT at 100% on held-out loss (1.2000 vs 1.0000) "
            + "and matched or beat it on answer accuracy (60.00 % vs 50.00 %)", verdict, StringComparison.Ordinal);
        Assert.Contains("KD+SFT at 100% beat SFT on held-out loss (0.9000 vs 1.0000) "
            + "and did not beat it on answer accuracy (45.00 % vs 50.00 %)", verdict, StringComparison.Ordinal);
        Assert.Contains("does not hold", verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void Verdict_Should_Say_The_Claim_Holds_Only_When_Both_Measures_Agree()
    {
        // Equal numbers count as "at least as good" for the short run but not as "better" for the full one.
        string holds = DemoReport.Verdict([Run("sft", 1.0, 0.5), Run("kd+sft 0.7S", 1.0, 0.5), Run("kd+sft S", 0.9, 0.55)]);
        string tied = DemoReport.Verdict([Run("sft", 1.0, 0.5), Run("kd+sft 0.7S", 1.0, 0.5), Run("kd+sft S", 0.9, 0.5)]);

        Assert.Contains("The claim holds on both measures.", holds, StringComparison.Ordinal);
        Assert.Contains("did not beat it on answer accuracy (50.00 % vs 50.00 %)", tied, StringComparison.Ordinal);
        Assert.Contains("does not hold", tied, StringComparison.Ordinal);
    }
}
