using System.Text.Json.Nodes;
using Distill.Generation;
using Distill.Models;
using Distill.Samples;
using Distill.Text.Conversations;
using static TorchSharp.torch;

namespace Distill.Tests.Samples;

public sealed class DemoTests
{
    [Theory]
    [InlineData(DemoInit.Pruned)]
    [InlineData(DemoInit.Random)]
    public void Run_Should_Train_Every_Student_From_One_Init_Per_Seed_And_Write_The_Report(DemoInit init)
    {
        string outDir = Path.Combine(Path.GetTempPath(), "distill-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DemoOptions(SampleFiles.Root, outDir, Seeds: 2, Steps: 4, GlobalBatch: 4, TopK: 5, Hidden: 16, Layers: 1, Heads: 2,
                Intermediate: 24, CurvePoints: 2, KSweep: [1], TrainLimit: 12, HeldOutLimit: 4, AnswerTokens: 12, Init: init);
            var runs = Demo.Run(options, TextWriter.Null);

            string[] students = [Demo.Sft, Demo.KdShort, Demo.KdFull, "kd+sft S K=1"];
            Assert.Equal(["teacher", .. students, .. students], runs.Select(r => r.Name));
            Assert.Equal([0, 4, 3, 4, 4, 4, 3, 4, 4], runs.Select(r => r.Steps));
            Assert.Equal([0, 1, 1, 1, 1, 2, 2, 2, 2], runs.Select(r => r.Seed));
            Assert.All(runs, r => Assert.True(double.IsFinite(r.HeldOutLoss) && r.HeldOutLoss > 0, r.Name));
            Assert.All(runs, r => Assert.InRange(r.TokenAccuracy, 0, 1));
            Assert.All(runs, r => Assert.InRange(r.AnswerAccuracy, 0, 1));
            Assert.Equal(TeacherAnswerAccuracy(SampleFiles.Data("heldout.jsonl"), 4, options.AnswerTokens), runs[0].AnswerAccuracy, 12);
            // Validation every max(1, S/20) = 1 step: one held-out point per step, the last at the run's final step.
            Assert.All(runs.Skip(1), r => Assert.Equal(Enumerable.Range(1, r.Steps), r.Curve.Select(p => p.Step)));
            Assert.All(runs.Skip(1), r => Assert.Equal(r.HeldOutLoss, r.Curve[^1].Loss, 6));
            // The S-step SFT and KD+SFT runs measure answer accuracy at S/2 and S; the last is the run's own.
            foreach (var run in runs.Where(r => r.Name is Demo.Sft or Demo.KdFull))
            {
                Assert.Equal([2, 4], run.Curve.Where(p => p.Answers is not null).Select(p => p.Step));
                Assert.Equal(run.AnswerAccuracy, run.Curve[^1].Answers);
            }
            Assert.All(runs.Where(r => r.Name is Demo.KdShort), r => Assert.All(r.Curve, p => Assert.Null(p.Answers)));
            // The students of a seed start from one initialisation: random, one per seed; or pruned from the teacher, one for all.
            string[] inits = init == DemoInit.Random ? [Path.Combine(outDir, "seed1", "init"), Path.Combine(outDir, "seed2", "init")] : [Path.Combine(outDir, "init")];
            Assert.All(inits, dir => Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")), dir));
            var start = LlamaConfig.Load(Path.Combine(inits[0], "config.json"));
            Assert.Equal((16, 1, 2, 24), (start.HiddenSize, start.NumHiddenLayers, start.NumAttentionHeads, start.IntermediateSize));
            Assert.Equal(init == DemoInit.Pruned ? "pruned" : null, start.Raw[StudentInit.ProvenanceKey]?["method"]?.GetValue<string>());
            foreach (var run in runs.Skip(1))
                Assert.Equal(inits[init == DemoInit.Random ? run.Seed - 1 : 0], StudentDirOf(outDir, run));
            string report = File.ReadAllText(Path.Combine(outDir, DemoReport.ReportFile));
            Assert.Contains("| kd+sft 0.7S | 3 | 2 |", report, StringComparison.Ordinal);
            foreach (var row in DemoReport.Table(runs))
                Assert.Contains($"| {row.Name} | {row.Steps} | {row.Seeds} | {row.Loss} | {row.Accuracy} | {row.Answers} |", report, StringComparison.Ordinal);
            Assert.Contains(" ± ", report, StringComparison.Ordinal);
            Assert.Contains(DemoReport.Verdict(runs), report, StringComparison.Ordinal);
            Assert.Contains(DemoReport.EfficiencyText(runs), report, StringComparison.Ordinal);
            Assert.All(runs, r => Assert.NotNull(r.ByTokenKind));
            Assert.Contains(DemoReport.DigitText(runs), report, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(outDir, DemoReport.PlotFile)).Length > 1000);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    // The student folder a run started from, as its train_config.yaml records it.
    private static string StudentDirOf(string outDir, DemoRun run)
    {
        string dir = Path.Combine(outDir, $"seed{run.Seed}", string.Concat(run.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
        string line = File.ReadLines(Path.Combine(dir, "train_config.yaml")).First(l => l.TrimStart().StartsWith("student:", StringComparison.Ordinal));
        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Trim('"');
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
    public void FractionToMatch_Should_Interpolate_Between_The_Points_Around_The_Target()
    {
        // Loss 0.6 at step 200 and 0.4 at 300: 0.5 is halfway, step 250 of S = 400.
        (int, double)[] loss = [(100, 1.0), (200, 0.6), (300, 0.4), (400, 0.3)];
        Assert.Equal(0.625, SampleEfficiency.FractionToMatch(loss, 0.5, lowerIsBetter: true, 400)!.Value, 12);
        // Accuracy 0.3 at 200 and 0.5 at 400: 0.4 is reached at 300.
        (int, double)[] answers = [(100, 0.1), (200, 0.3), (400, 0.5)];
        Assert.Equal(0.75, SampleEfficiency.FractionToMatch(answers, 0.4, lowerIsBetter: false, 400)!.Value, 12);
        // Exactly on a point: that point's step.
        Assert.Equal(0.5, SampleEfficiency.FractionToMatch(loss, 0.6, lowerIsBetter: true, 400)!.Value, 12);
    }

    [Fact]
    public void FractionToMatch_Should_Take_The_First_Crossing_And_Say_Never_When_Not_Reached()
    {
        // Dips below 0.5 at 150 (between 100 and 200), rises, dips again: the first crossing counts.
        (int, double)[] bumpy = [(100, 0.7), (200, 0.3), (300, 0.8), (400, 0.2)];
        Assert.Equal(0.375, SampleEfficiency.FractionToMatch(bumpy, 0.5, lowerIsBetter: true, 400)!.Value, 12);
        // Already there at the first point: nothing is known before it, so its step.
        Assert.Equal(0.25, SampleEfficiency.FractionToMatch(bumpy, 0.9, lowerIsBetter: true, 400)!.Value, 12);
        Assert.Null(SampleEfficiency.FractionToMatch(bumpy, 0.1, lowerIsBetter: true, 400));
        Assert.Null(SampleEfficiency.FractionToMatch([(100, 0.2), (400, 0.3)], 0.5, lowerIsBetter: false, 400));
        Assert.Null(SampleEfficiency.FractionToMatch([], 0.5, lowerIsBetter: false, 400));
    }

    [Fact]
    public void MeanCurve_Should_Average_Seeds_At_Shared_Steps_And_Skip_Unmeasured_Points()
    {
        var a = new DemoRun(Demo.KdFull, 1, 4, 0, 0, 0, [new(1, 1.0), new(2, 0.8, 0.2), new(3, 0.6), new(4, 0.4, 0.5)]);
        var b = new DemoRun(Demo.KdFull, 2, 4, 0, 0, 0, [new(2, 0.6, 0.4), new(4, 0.2, 0.7)]);

        Assert.Equal([(2, 0.7), (4, 0.3)], SampleEfficiency.MeanCurve([a, b], p => p.Loss).Select(p => (p.Step, Math.Round(p.Value, 12))));
        Assert.Equal([(2, 0.3), (4, 0.6)], SampleEfficiency.MeanCurve([a, b], p => p.Answers).Select(p => (p.Step, Math.Round(p.Value, 12))));
    }

    [Fact]
    public void Efficiency_Should_Compare_The_Mean_KD_Curve_With_The_Mean_Final_SFT_Numbers()
    {
        // SFT ends at loss 0.5 and 40 % answers (means of two seeds); KD+SFT's mean curve passes 0.5 at 0.375·S and 40 % at 0.75·S.
        DemoRun Sft(long seed, double loss, double answers) => new(Demo.Sft, seed, 400, loss, 0.5, answers, []);
        DemoRun Kd(long seed, double shift) => new(Demo.KdFull, seed, 400, 0.3, 0.6, 0.5,
            [new(100, 0.6 + shift), new(200, 0.4 + shift, 0.2 + shift), new(400, 0.3 + shift, 0.6 + shift)]);
        var runs = new[] { Sft(1, 0.45, 0.35), Sft(2, 0.55, 0.45), Kd(1, 0.05), Kd(2, -0.05) };

        var e = DemoReport.Efficiency(runs)!.Value;
        Assert.Equal(0.5, e.SftLoss, 12);
        Assert.Equal(0.4, e.SftAnswers, 12);
        Assert.Equal(0.375, e.LossFraction!.Value, 12);
        Assert.Equal(0.75, e.AnswersFraction!.Value, 12);
        Assert.Contains($"after {0.375.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}·S steps", DemoReport.EfficiencyText(runs), StringComparison.Ordinal);
        Assert.Contains("after 0.75·S steps", DemoReport.EfficiencyText(runs), StringComparison.Ordinal);
        Assert.DoesNotContain("says little", DemoReport.EfficiencyText(runs), StringComparison.Ordinal);
    }

    [Fact]
    public void EfficiencyText_Should_Say_When_SFT_Answers_Too_Few_Questions_For_A_Match_To_Mean_Anything()
    {
        var runs = new[]
        {
            new DemoRun(Demo.Sft, 1, 400, 0.5, 0.5, 0.01, []),
            new DemoRun(Demo.KdFull, 1, 400, 0.4, 0.5, 0.01, [new(200, 0.45, 0.01), new(400, 0.4, 0.01)]),
        };
        Assert.Contains("not within S steps", DemoReport.EfficiencyText([runs[0], runs[1] with { Curve = [new(400, 0.6, 0.0)] }]), StringComparison.Ordinal);
        Assert.Contains("so matching its answer accuracy says little", DemoReport.EfficiencyText(runs), StringComparison.Ordinal);
    }

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
