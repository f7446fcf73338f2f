using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>
/// Feature distillation in the accumulator against a per-example reference (no padding, no packing, fp64 arithmetic
/// written out), and in the trainer: resume with projections, flat live tensors, and bad maps refused before compute.
/// </summary>
public sealed class FeatureDistillationTests : IDisposable
{
    private const double Weight = 0.7;
    private readonly TempFolder _folder = new();
    private readonly TrainingExample[] _examples = TrainingTestData.Examples(5, seed: 41);
    private readonly KdObjective _sftOnly = new(KdLossKind.FwdKl, KdWeight: 0, SftWeight: 1);

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(FeatureLossKind.Cosine, FeatureTokens.Supervised, 16)]
    [InlineData(FeatureLossKind.Mse, FeatureTokens.All, 16)]
    [InlineData(FeatureLossKind.Cosine, FeatureTokens.All, 24)]
    [InlineData(FeatureLossKind.Mse, FeatureTokens.Supervised, 24)]
    public void Hidden_State_Terms_Should_Equal_A_Per_Example_Reference_In_Value_And_Gradient(FeatureLossKind kind, FeatureTokens tokens, int teacherWidth)
    {
        using var teacher = TrainingTestData.Model(99, hidden: teacherWidth, initRange: 0.3);
        using var student = TrainingTestData.Model(11);
        using var live = new ModelTeacher(teacher);
        using var features = new FeatureDistillation(new FeatureOptions(kind, Weight, "0:0,1:1", tokens), live, student.Config, seed: 5, CPU);
        var result = GradientAccumulator.Accumulate(student, [new BatchPart(_examples, null, _sftOnly)], 2, 4, live, features);

        using var reference = TrainingTestData.Model(11);
        var maps = features.Projections.Parameters.Select(p => p.detach().to_type(ScalarType.Float64).requires_grad_(true)).ToArray();
        var (sft, feature) = Reference(reference, teacher, maps, kind, tokens);
        (sft + Weight * feature).backward();
        Assert.Equal(feature.item<double>(), result.Feature, 5);
        Assert.Equal(sft.item<double>() + Weight * feature.item<double>(), result.Loss, 5);
        foreach (var (a, b) in student.parameters().Zip(reference.parameters()))
            Assert.True(a.grad!.allclose(b.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "student gradients differ");
        Assert.Equal(teacherWidth == 16 ? 0 : 4, maps.Length);
        foreach (var (a, b) in features.Projections.Parameters.Zip(maps))
            Assert.True(a.grad!.allclose(b.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "projection gradients differ");
    }

    // Each example alone: CE over its supervised targets, and the feature term at its rows (supervised: the position before
    // each supervised target; all: every position), each normalised by its count over all examples. Student layer l is
    // compared with teacher layer l (hidden_states[l + 1]) through W_l·h + b_l when the widths differ.
    private (Tensor Sft, Tensor Feature) Reference(LlamaForCausalLM student, LlamaForCausalLM teacher, Tensor[] maps, FeatureLossKind kind, FeatureTokens tokens)
    {
        var (sft, feature) = (zeros(Array.Empty<long>(), ScalarType.Float64), zeros(Array.Empty<long>(), ScalarType.Float64));
        var (targets, rows) = (0, 0);
        foreach (var e in _examples)
        {
            var ids = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
            var s = student.Forward(new CausalLMInput { InputIds = ids, OutputHiddenStates = true });
            CausalLMOutput t;
            using (no_grad()) t = teacher.Forward(new CausalLMInput { InputIds = ids, OutputHiddenStates = true });
            var logQ = s.Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            var positions = new List<int>();
            for (var j = 0; j < e.InputIds.Length; j++)
            {
                var supervisedNext = j + 1 < e.InputIds.Length && e.LossMask[j + 1] != 0;
                if (supervisedNext)
                {
                    sft = sft - logQ[j][e.InputIds[j + 1]];
                    targets++;
                }
                if (supervisedNext || tokens == FeatureTokens.All) positions.Add(j);
            }
            foreach (var j in positions)
                for (var layer = 0; layer < 2; layer++)
                {
                    var hs = s.HiddenStates![layer + 1][0, j].to_type(ScalarType.Float64);
                    if (maps.Length > 0) hs = maps[layer].matmul(hs) + maps[2 + layer];
                    var ht = t.HiddenStates![layer + 1][0, j].to_type(ScalarType.Float64);
                    feature = feature + (kind == FeatureLossKind.Cosine
                        ? 1 - (hs * ht).sum() / (hs.square().sum().sqrt() * ht.square().sum().sqrt())
                        : (hs - ht).square().sum() / hs.shape[0]);
                }
            rows += positions.Count;
        }
        return (sft / targets, feature / rows);
    }

    [Fact]
    public void Attention_Relations_Should_Equal_A_Per_Example_Reference_In_Value_And_Gradient()
    {
        using var teacher = TrainingTestData.Model(99, hidden: 24, initRange: 0.3);
        using var student = TrainingTestData.Model(11);
        using var live = new ModelTeacher(teacher);
        using var features = new FeatureDistillation(new FeatureOptions(FeatureLossKind.Attention, Weight, "1:0"), live, student.Config, seed: 5, CPU);
        var result = GradientAccumulator.Accumulate(student, [new BatchPart(_examples, null, _sftOnly)], 3, 4, live, features);

        using var reference = TrainingTestData.Model(11);
        var (sft, rows) = (zeros(Array.Empty<long>(), ScalarType.Float64), 0);
        var feature = zeros(Array.Empty<long>(), ScalarType.Float32);
        foreach (var e in _examples)
        {
            var ids = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
            var s = reference.Forward(new CausalLMInput { InputIds = ids, CaptureAttention = new HashSet<int> { 1 } });
            CausalLMOutput t;
            using (no_grad()) t = teacher.Forward(new CausalLMInput { InputIds = ids, CaptureAttention = new HashSet<int> { 0 } });
            var queries = Enumerable.Range(0, e.InputIds.Length - 1).Where(j => e.LossMask[j + 1] != 0).Select(j => (long)j).ToArray();
            var logQ = s.Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            foreach (var j in queries) sft = sft - logQ[j][e.InputIds[j + 1]];
            rows += queries.Length;
            var (sa, ta) = (s.Attention![1], t.Attention![0]);
            // One kv head serves both query heads (grouped-query attention): index it explicitly for every query head.
            var kvOfHead = tensor(new long[] { 0, 0 });
            feature = feature
                + AttentionRelations.KlSum(AttentionRelations.LogRelation(ta.Query[0], ta.Key[0].index_select(0, kvOfHead)),
                    AttentionRelations.LogRelation(sa.Query[0], sa.Key[0].index_select(0, kvOfHead)), tensor(queries), matchHeads: true)
                + AttentionRelations.KlSum(AttentionRelations.LogRelation(ta.Value[0], ta.Value[0]),
                    AttentionRelations.LogRelation(sa.Value[0], sa.Value[0]), tensor(queries), matchHeads: true);
        }
        var expected = feature.to_type(ScalarType.Float64) / rows;
        (sft / rows + Weight * expected).backward();
        Assert.Equal(expected.item<double>(), result.Feature, 5);
        foreach (var (a, b) in student.parameters().Zip(reference.parameters()))
            Assert.True(a.grad!.allclose(b.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "student gradients differ");
        Assert.Empty(features.Projections.Parameters);
    }

    [Fact]
    public void Train_With_Projections_Should_Checkpoint_Them_Resume_Exactly_And_Leave_Them_Out_Of_The_Model()
    {
        var (student, teacher, data) = Folders(teacherWidth: 24);
        string[] common = ["teacher=" + teacher, "steps=4", "save_interval=1", "feature.loss=cosine", "feature.weight=0.5", "kd_weight=0.5", "sft_weight=1"];
        var whole = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("whole"), common));

        using var cancel = new CancellationTokenSource();
        var stopAtTwo = new SyncProgress(p => { if (p.Step == 2 && p.Message is not null) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), common), stopAtTwo, cancel.Token));
        var resumed = Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("split"), [.. common, "resume=true"]));
        var wr = MetricsLog.Read(Path.Combine(_folder.Sub("whole"), MetricsLog.FileName)).Select(r => $"{r["step"]} {r["loss"]} {r["feature"]} {r["grad_norm"]}").ToArray();
        var sr = MetricsLog.Read(Path.Combine(_folder.Sub("split"), MetricsLog.FileName)).Select(r => $"{r["step"]} {r["loss"]} {r["feature"]} {r["grad_norm"]}").ToArray();
        Assert.Equal(string.Join("\n", wr), string.Join("\n", sr));

        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.ModelDirectory, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.ModelDirectory, "model.safetensors")));
        var (_, last) = Checkpoints.List(_folder.Sub("whole"))[^1];
        Assert.Equal(File.ReadAllBytes(Path.Combine(last, FeatureProjections.FileName)),
            File.ReadAllBytes(Path.Combine(Checkpoints.List(_folder.Sub("split"))[^1].Path, FeatureProjections.FileName)));
        Assert.False(File.Exists(Path.Combine(whole.ModelDirectory, FeatureProjections.FileName)));
        var rows = MetricsLog.Read(Path.Combine(_folder.Sub("whole"), MetricsLog.FileName)).Where(r => r["validation"] is null).ToArray();
        Assert.All(rows, r => Assert.InRange(r["feature"]!.GetValue<double>(), 1e-6, 4)); // two pairs, each 1 − cos ∈ [0, 2]
        Assert.All(rows, r => Assert.Equal(r["loss"]!.GetValue<double>(),
            0.5 * r["kd"]!.GetValue<double>() + r["sft"]!.GetValue<double>() + 0.5 * r["feature"]!.GetValue<double>(), 5));
    }

    [Fact]
    public void Train_With_Attention_Relations_Should_Keep_Live_Tensors_Flat()
    {
        var (student, teacher, data) = Folders(teacherWidth: 24);
        var live = new Dictionary<int, long>();
        var progress = new SyncProgress(p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("leak"), "teacher=" + teacher, "steps=10", "micro_batch=1",
            "feature.loss=attention", "feature.tokens=all"), progress);
        Assert.Equal(live[3], live[10]);
    }

    [Fact]
    public void Train_Should_Refuse_Bad_Feature_Settings_Before_Any_Compute()
    {
        var (student, teacher, data) = Folders(teacherWidth: 24);
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("a"),
            "teacher=" + teacher, "feature.loss=cosine", "feature.layer_map=0:1,1:2")));
        Assert.Contains("feature.layer_map = 0:1,1:2: teacher layer 2 does not exist (the teacher has layers 0..1)", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("b"), "feature.loss=mse")));
        Assert.Contains("feature.loss = mse needs a live teacher model (model.teacher): hidden states", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("c"),
            "teacher_url=http://127.0.0.1:9/v1", "kd_loss=sampled_rkl", "feature.loss=cosine")));
        Assert.Contains("a served teacher returns no hidden states", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, data, _folder.Sub("d"), "feature.loss=l1")));
        foreach (var name in new[] { "a", "b", "c", "d" }) Assert.False(Directory.Exists(Path.Combine(_folder.Sub(name), Trainer.FinalFolder)));

        var fourHeads = TrainingTestData.Config(hidden: 24) with { NumAttentionHeads = 4 };
        e = Assert.Throws<InvalidDataException>(() => FeatureDistillation.Check(new FeatureOptions(FeatureLossKind.Attention, Heads: AttentionHeads.Match),
            TrainingTestData.Config(), fourHeads));
        Assert.Contains("the student has 2 attention heads and the teacher 4", e.Message, StringComparison.Ordinal);
        FeatureDistillation.Check(new FeatureOptions(FeatureLossKind.Attention), TrainingTestData.Config(), fourHeads);
    }

    [Fact]
    public void Layer_Maps_Should_Default_To_Evenly_Spaced_Last_To_Last_And_Name_Bad_Pairs()
    {
        Assert.Equal("0:1,1:3", LayerMap.Default(2, 4).ToString());
        Assert.Equal("0:1,1:2,2:3", LayerMap.Default(3, 4).ToString());
        Assert.Equal("0:0,1:0,2:1,3:1", LayerMap.Default(4, 2).ToString());
        Assert.Equal("0:0,1:1", LayerMap.Parse(null, 2, 2).ToString());
        Assert.Equal("1:5,0:2", LayerMap.Parse(" 1:5 , 0:2 ", 2, 6).ToString());
        Assert.Contains("student layer 1 is mapped twice", Assert.Throws<InvalidDataException>(() => LayerMap.Parse("1:1,1:2", 2, 4)).Message, StringComparison.Ordinal);
        Assert.Contains("student layer 2 does not exist", Assert.Throws<InvalidDataException>(() => LayerMap.Parse("2:1", 2, 4)).Message, StringComparison.Ordinal);
        Assert.Contains("'1-2' is not student:teacher", Assert.Throws<InvalidDataException>(() => LayerMap.Parse("1-2", 2, 4)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => LayerMap.Parse("-1:0", 2, 4));
    }

    private (string Student, string Teacher, string Data) Folders(int teacherWidth)
    {
        var student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        var teacher = _folder.Sub("teacher");
        using (var m = TrainingTestData.Model(21, hidden: teacherWidth, initRange: 0.3)) HfModelFolder.Save(m, teacher);
        var data = _folder.Sub("train.jsonl");
        File.WriteAllLines(data, _examples.Select(x => $"{{\"input_ids\": [{string.Join(", ", x.InputIds)}], \"loss_mask\": [{string.Join(", ", x.LossMask)}]}}"));
        return (student, teacher, data);
    }
}
