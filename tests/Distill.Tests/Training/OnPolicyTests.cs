using Distill.Generation;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>On-policy distillation (GKD): the student's own samples, scored by a live teacher.</summary>
public sealed class OnPolicyTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    // ids 5..11; two assistant turns (positions 2–3 and 5–6): the last turn is the completion, the rest the prompt.
    private static readonly TrainingExample TwoTurns = new([5, 6, 7, 8, 9, 10, 11], [0, 0, 1, 1, 0, 1, 1]);

    [Fact]
    public void Build_Should_Split_At_The_Last_Turn_And_Let_The_Student_Complete_Its_Share()
    {
        using var student = TrainingTestData.Model(11);
        using var source = new InMemoryExampleSource("mem", [TwoTurns, TwoTurns, TwoTurns, TwoTurns]);
        var objective = new KdObjective(KdLossKind.Jsd, SftWeight: 0.5);
        var greedy = new OnlineOptions(Lambda: 0.5, MaxNewTokens: 3, GenTemperature: 0);
        var (parts, stats) = new OnPolicyBatch(greedy, objective, [2], seed: 9, microBatch: 2).Build(source, [0, 1, 2, 3], step: 0, student, null);

        Assert.Equal(2, parts.Count);
        var (own, data) = (parts[0], parts[1]);
        Assert.Null(own.Indices);
        Assert.Equal(0, own.Objective.SftWeight);                                  // no SFT on the student's own samples
        Assert.Equal(objective, data.Objective);
        Assert.Equal(2, own.Examples.Count);                                       // round(0.5 · 4)
        Assert.Equal(2, data.Indices!.Count);
        Assert.All(data.Examples, e =>
        {
            Assert.Equal(new[] { 5, 6, 7, 8, 9, 10, 11 }, e.InputIds);
            Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 1, 1 }, e.LossMask);          // the last turn only
        });
        // Greedy decoding alone, from the prompt [5..9], is what the sampled examples must hold.
        var expected = Greedy.Generate(student, [5, 6, 7, 8, 9], 3, [2]);
        var completion = expected.StopId is { } stop ? [.. expected.Tokens, stop] : expected.Tokens;
        Assert.All(own.Examples, e =>
        {
            Assert.Equal([5, 6, 7, 8, 9, .. completion], e.InputIds);
            Assert.Equal([0, 0, 0, 0, 0, .. completion.Select(_ => (byte)1)], e.LossMask);
        });
        Assert.Equal((2, 2L * completion.Length), (stats.Completions, stats.Tokens));
    }

    [Fact]
    public void Build_Should_Choose_And_Sample_The_Same_At_The_Same_Step_And_Differently_At_Another()
    {
        using var student = TrainingTestData.Model(11, initRange: 0.5);
        using var source = new InMemoryExampleSource("mem", TrainingTestData.Examples(8, seed: 3));
        var batch = new OnPolicyBatch(new OnlineOptions(Lambda: 0.5, MaxNewTokens: 6), new KdObjective(), [2], seed: 4, microBatch: 3);
        long[] indices = [0, 1, 2, 3, 4, 5, 6, 7];
        string Show(int step) => string.Join(" | ", batch.Build(source, indices, step, student, null).Parts
            .SelectMany(p => p.Examples.Select(e => string.Join(",", e.InputIds)).Append(p.Indices is null ? "own" : string.Join(",", p.Indices))));
        Assert.Equal(Show(5), Show(5));
        Assert.NotEqual(Show(5), Show(6));
    }

    [Fact]
    public void On_Policy_Training_Should_Log_Its_Parts_And_Resume_Exactly()
    {
        var (student, teacher, data) = Folders();
        string[] common = ["teacher=" + teacher, "steps=4", "save_interval=1", "lambda=0.5", "kd_loss=jsd", "beta=0.5", "sft_weight=0.3", "max_new_tokens=5"];
        var whole = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("whole"), common));

        using var cancel = new CancellationTokenSource();
        var stopAtTwo = new SyncProgress(p => { if (p.Step == 2 && p.Message is null) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), common), stopAtTwo, cancel.Token));
        var resumed = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), [.. common, "resume=true"]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.ModelDirectory, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.ModelDirectory, "model.safetensors")));

        var rows = MetricsLog.Read(Path.Combine(_folder.Sub("whole"), MetricsLog.FileName));
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.True(r["generated_tokens"]!.GetValue<long>() >= 2);            // two sampled completions of ≥ 1 token
            Assert.InRange(r["mean_completion_length"]!.GetValue<double>(), 1, 6);
            Assert.True(r["generation_s"]!.GetValue<double>() > 0);
            Assert.True(r["teacher_s"]!.GetValue<double>() > 0);
        });
    }

    [Fact]
    public void Fully_On_Policy_Training_Should_Have_No_Sft_Term_In_Its_Loss()
    {
        var (student, teacher, data) = Folders();
        Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("rkl"), "teacher=" + teacher, "steps=2", "lambda=1", "kd_loss=sampled_rkl", "sft_weight=0.5"));
        var rows = MetricsLog.Read(Path.Combine(_folder.Sub("rkl"), MetricsLog.FileName));
        Assert.All(rows, r => Assert.Equal(r["kd"]!.GetValue<double>(), r["loss"]!.GetValue<double>(), 9));
    }

    [Fact]
    public void Live_Tensors_Should_Stay_Flat_Over_Many_On_Policy_Steps()
    {
        var (student, teacher, data) = Folders();
        var live = new Dictionary<int, long>();
        var progress = new SyncProgress(p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("leak"), "teacher=" + teacher, "steps=10", "lambda=0.5", "seq_kd=true",
            "max_new_tokens=4", "micro_batch=1"), progress);
        Assert.Equal(live[3], live[10]);
    }

    [Theory]
    [InlineData("lambda=1.5", "online.lambda")]
    [InlineData("lambda=1|seq_kd=true", "online.seq_kd")]
    [InlineData("gen_top_p=0", "online.gen_top_p")]
    [InlineData("max_new_tokens=0", "online.max_new_tokens")]
    [InlineData("kd_loss=sampled_rkl|teacher_top_k=4", "teacher_top_k = 4")]
    public void Bad_Online_Settings_Should_Be_Clear_Errors(string settings, string named)
    {
        var (student, teacher, data) = Folders();
        var e = Assert.Throws<InvalidDataException>(() =>
            Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("bad"), ["teacher=" + teacher, .. settings.Split('|')])));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sampling_Without_A_Teacher_Or_From_A_Prompt_With_No_Room_Should_Be_Clear_Errors()
    {
        var (student, teacher, data) = Folders();
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("a"), "lambda=0.5")));
        Assert.Contains("needs a live teacher", e.Message, StringComparison.Ordinal);

        // The trainer cuts examples to the student's context (max_position_embeddings = 64), so only a caller of the
        // library can hand over a prompt that fills it.
        var full = new TrainingExample([.. Enumerable.Repeat(7, 66)], [.. Enumerable.Range(0, 66).Select(j => (byte)(j >= 64 ? 1 : 0))]);
        using var source = new InMemoryExampleSource("mem", [full]);
        using var model = TrainingTestData.Model(1);
        var batch = new OnPolicyBatch(new OnlineOptions(Lambda: 1), new KdObjective(), [2], seed: 1, microBatch: 1);
        e = Assert.Throws<InvalidDataException>(() => batch.Build(source, [0], 0, model, null));
        Assert.Contains("no room for new tokens", e.Message, StringComparison.Ordinal);
        Assert.Contains("example 0", e.Message, StringComparison.Ordinal);
    }

    private (string Student, string Teacher, string Data) Folders()
    {
        var student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        var teacher = _folder.Sub("teacher");
        if (!Directory.Exists(teacher))
            using (var m = TrainingTestData.BigramTeacher(21)) HfModelFolder.Save(m, teacher);
        var data = _folder.Sub("train.jsonl");
        File.WriteAllLines(data, TrainingTestData.Examples(8, seed: 40).Select(x =>
            $"{{\"input_ids\": [{string.Join(", ", x.InputIds)}], \"loss_mask\": [{string.Join(", ", x.LossMask)}]}}"));
        return (student, teacher, data);
    }

    [Fact]
    public void Validation_Should_Score_The_Students_Own_Greedy_Answers_Against_The_Teacher()
    {
        using var student = TrainingTestData.Model(11, initRange: 0.5);
        using var teacher = TrainingTestData.BigramTeacher(21);
        var examples = TrainingTestData.Examples(3, seed: 41);
        using var val = new InMemoryExampleSource("val", examples);
        var (self, _) = OnPolicyValidation.Run(student, val, new Distill.Teachers.ModelTeacher(student), [2], 4, 2, 5, null);
        Assert.Equal(0, self, 6);

        var (rkl, accuracy) = OnPolicyValidation.Run(student, val, new Distill.Teachers.ModelTeacher(teacher), [2], 4, 2, 5, null);
        Assert.Null(accuracy);                                                        // no tokenizer, no answers to check
        // Naive: each prompt alone through Greedy, then Σ q (log q − log p) over the full vocabulary at every answer token.
        double total = 0;
        var count = 0;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            foreach (var e in examples)
            {
                var end = Array.FindLastIndex(e.LossMask, m => m != 0);
                var start = end;
                while (start > 1 && e.LossMask[start - 1] != 0) start--;
                var prompt = e.InputIds[..start];
                var g = Greedy.Generate(student, prompt, 4, [2]);
                int[] ids = [.. prompt, .. g.Tokens, .. g.StopId is { } stop ? new[] { stop } : []];
                var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
                var logQ = student.Forward(new CausalLMInput { InputIds = input }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
                var logP = teacher.Forward(new CausalLMInput { InputIds = input }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
                for (var j = prompt.Length; j < ids.Length; j++, count++)
                    total += (logQ[j - 1].exp() * (logQ[j - 1] - logP[j - 1])).sum().item<double>();
            }
        }
        Assert.Equal(total / count, rkl, 5);
    }
}
