using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Tests.Text.Conversations;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>Online KD: a live model teacher in the trainer, over its full vocabulary or its top-K computed on the fly.</summary>
public sealed class OnlineKdTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TrainingExample[] _examples = TrainingTestData.Examples(5, seed: 31);

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, double> Objectives => new() { { "fwd_kl", 0.5 }, { "bwd_kl", 0.5 }, { "jsd", 0.5 }, { "jsd", 0.2 } };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void Full_Vocabulary_Kd_Should_Equal_A_Naive_Reference_In_Value_And_Gradient(string kind, double beta)
    {
        var objective = new KdObjective(KdObjective.ParseKind(kind), KdWeight: 1, SftWeight: 0.4, Beta: beta);
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        using var source = new InMemoryExampleSource("mem", _examples);
        using var student = TrainingTestData.Model(11);
        var (loss, _, _, _) = GradientAccumulator.Accumulate(student, source, [3, 0, 4, 1, 2], 2, objective, chunkSize: 4,
            new ModelTeacher(teacher));

        using var reference = TrainingTestData.Model(11);
        var expected = NaiveLoss(reference, teacher, objective);
        expected.backward();
        Assert.Equal(expected.item<double>(), loss, 5);
        foreach (var (a, b) in student.parameters().Zip(reference.parameters()))
            Assert.True(a.grad!.allclose(b.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "gradients differ");
    }

    // Each example alone, full logits from the model's own forward, divergences written out in fp64 from their
    // definitions: KL(P‖Q) = Σ p (log p − log q); JSD(β) = β·KL(P‖M) + (1−β)·KL(Q‖M), M = β·P + (1−β)·Q.
    private Tensor NaiveLoss(LlamaForCausalLM student, LlamaForCausalLM teacher, KdObjective o)
    {
        var total = zeros(1, dtype: ScalarType.Float64);
        var count = 0;
        foreach (var e in _examples)
        {
            var ids = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
            var logQ = student.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            Tensor logP;
            using (no_grad()) logP = teacher.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            for (var j = 1; j < e.InputIds.Length; j++)
            {
                if (e.LossMask[j] == 0) continue;
                var (lp, lq) = (logP[j - 1], logQ[j - 1]);
                var (p, q) = (lp.exp(), lq.exp());
                var kd = o.Kind switch
                {
                    KdLossKind.FwdKl => (p * (lp - lq)).sum(),
                    KdLossKind.BwdKl => (q * (lq - lp)).sum(),
                    _ => Jsd(p, q, o.Beta),
                };
                total = total + kd * o.KdWeight - lq[e.InputIds[j]] * o.SftWeight;
                count++;
            }
        }
        return total / count;
    }

    private static Tensor Jsd(Tensor p, Tensor q, double beta)
    {
        var m = beta * p + (1 - beta) * q;
        return beta * (p * (p.log() - m.log())).sum() + (1 - beta) * (q * (q.log() - m.log())).sum();
    }

    [Theory]
    [InlineData(KdLossKind.FwdKl)]
    [InlineData(KdLossKind.TailFwdKl)]
    [InlineData(KdLossKind.TailBwdKl)]
    public void Top_K_On_The_Fly_Should_Equal_The_Cached_Path_For_The_Same_Teacher(KdLossKind kind)
    {
        var objective = new KdObjective(kind, KdWeight: 1, SftWeight: 0.3);
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        using var cache = new CacheExampleSource(TrainingTestData.Cache(_folder.Sub("cache"), _examples, teacher, topK: 5), topK: null);
        long[] order = [4, 2, 0, 1, 3];

        using var fromCache = TrainingTestData.Model(11);
        var (cached, _, _, _) = GradientAccumulator.Accumulate(fromCache, cache, order, 2, objective, 3, new CachedTeacher(cache));
        using var live = TrainingTestData.Model(11);
        var (onTheFly, _, _, _) = GradientAccumulator.Accumulate(live, cache, order, 2, objective, 3, new ModelTeacher(teacher, topK: 5));

        Assert.Equal(cached, onTheFly, 6);
        foreach (var (a, b) in fromCache.parameters().Zip(live.parameters()))
            Assert.True(a.grad!.allclose(b.grad!, rtol: 1e-5, atol: 1e-7), "gradients differ");
    }

    [Fact]
    public void Train_With_A_Live_Teacher_Should_Run_Validate_And_Resume_Exactly()
    {
        var (student, teacher, data, val) = Folders();
        string[] common = ["teacher=" + teacher, "steps=4", "save_interval=1", "sft_weight=0.4", "val_data=" + val, "val_interval=2", "teacher_dtype=bfloat16"];
        var whole = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("whole"), common));

        using var cancel = new CancellationTokenSource();
        var stopAtTwo = new SyncProgress(p => { if (p.Step == 2 && p.Validation is not null) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), common), stopAtTwo, cancel.Token));
        var resumed = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), [.. common, "resume=true"]));

        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.ModelDirectory, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.ModelDirectory, "model.safetensors")));
        var rows = MetricsLog.Read(Path.Combine(_folder.Sub("whole"), MetricsLog.FileName));
        Assert.All(rows.Where(r => r["validation"] is null), r => Assert.True(r["kd"]!.GetValue<double>() > 0));
        Assert.NotNull(whole.Validation!.Top1Agreement);
        Assert.True(whole.Validation.Kd > 0);
        Assert.True(whole.Validation.OwnReverseKl > 0);
        var validations = rows.Where(r => r["validation"] is not null).ToArray();
        Assert.Equal(2, validations.Length);
        Assert.All(validations, r => Assert.True(r["own_reverse_kl"]!.GetValue<double>() > 0));
    }

    [Fact]
    public void Train_Should_Refuse_A_Teacher_That_Cannot_Teach_This_Student_Before_Any_Compute()
    {
        var (student, teacher, data, _) = Folders();
        using (var m = TrainingTestData.Model(3)) TrainingTestData.Cache(_folder.Sub("cache"), _examples, m, topK: 3);
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, _folder.Sub("cache"), _folder.Sub("a"), "teacher=" + teacher)));
        Assert.Contains("together", e.Message, StringComparison.Ordinal);

        var wide = TrainingTestData.StudentFolder(_folder.Sub("wide"), vocab: 5000);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("b"), "teacher=" + wide)));
        Assert.Contains("5000", e.Message, StringComparison.Ordinal);
        Assert.Contains(student, e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("c"), "teacher_top_k=3")));
        Assert.Contains("model.teacher_top_k", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("c"), "teacher=" + teacher, "teacher_top_k=51")));
        Assert.Contains("teacher_top_k = 51", e.Message, StringComparison.Ordinal);

        using var plain = new TinyModelFolder();
        using var withBos = new TinyModelFolder(bos: "<s>", postProcessorAddsBos: true);
        var s = TrainingTestData.StudentFolder(_folder.Sub("s420"), vocab: 420);
        var t = TrainingTestData.StudentFolder(_folder.Sub("t420"), seed: 5, vocab: 420);
        File.Copy(Path.Combine(plain.Path, "tokenizer.json"), Path.Combine(s, "tokenizer.json"));
        File.Copy(Path.Combine(withBos.Path, "tokenizer.json"), Path.Combine(t, "tokenizer.json"));
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(s, data, _folder.Sub("d"), "teacher=" + t)));
        Assert.Contains("tokenizer", e.Message, StringComparison.Ordinal);
        Assert.Contains(t, e.Message, StringComparison.Ordinal);
        Assert.Contains(s, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder.Sub("d"), Trainer.FinalFolder)));
    }

    private (string Student, string Teacher, string Data, string Val) Folders()
    {
        var student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        var teacher = _folder.Sub("teacher");
        using (var m = TrainingTestData.BigramTeacher(21)) HfModelFolder.Save(m, teacher);
        return (student, teacher, Jsonl("train.jsonl", _examples), Jsonl("val.jsonl", TrainingTestData.Examples(3, seed: 32)));
    }

    private string Jsonl(string name, IEnumerable<TrainingExample> examples)
    {
        var path = _folder.Sub(name);
        File.WriteAllLines(path, examples.Select(x => $"{{\"input_ids\": [{string.Join(", ", x.InputIds)}], \"loss_mask\": [{string.Join(", ", x.LossMask)}]}}"));
        return path;
    }
}
