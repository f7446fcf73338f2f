using System.Text.Json.Nodes;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public sealed class WidthPruningTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static int[][] Calibration() =>
        [.. Enumerable.Range(0, 3).Select(s => TinyModels.RandomIds(1, 9 + s, seed: 20 + s).data<long>().Select(i => (int)i).ToArray())];

    [Theory]
    [InlineData("LlamaForCausalLM", 2)]
    [InlineData("Qwen2ForCausalLM", 2)]
    [InlineData("LlamaForCausalLM", 4)]
    public void Rebuilt_Layer_Should_Give_The_Models_Next_Hidden_State(string architecture, int kvHeads)
    {
        using var model = TinyModels.Create(architecture, kvHeads: kvHeads);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var output = model.Forward(new CausalLMInput
        {
            InputIds = TinyModels.RandomIds(1, 11), ComputeLogits = false, OutputHiddenStates = true, CaptureAttention = new HashSet<int> { 0 },
        });
        var pieces = WidthPruning.Recompute(model.Config, model.state_dict(), 0, output.HiddenStates![0], output.Attention![0]);
        Assert.True(pieces.Output.allclose(output.HiddenStates[1], rtol: 1e-5, atol: 1e-5), "layer 0 rebuilt from its weights differs from the model's");
        Assert.Equal(new long[] { 1, 4, 11, 8 }, pieces.HeadOutputs.shape);
        Assert.Equal(new long[] { 1, 11, 40 }, pieces.Gated.shape);
    }

    [Fact]
    public void Silent_Neurons_And_Heads_Should_Rank_Last_And_Pruning_Them_Should_Keep_The_Output_Exactly()
    {
        using var teacher = TinyModels.Create(kvHeads: 4);
        var w = teacher.state_dict();
        using (no_grad())
        {
            foreach (var layer in new[] { 0, 1 })
            {
                // Neurons 3 and 17 never fire (their gate and up rows are zero); head 2 attends to zero values.
                foreach (var proj in new[] { "gate_proj", "up_proj" })
                    foreach (var n in new[] { 3, 17 }) w[$"model.layers.{layer}.mlp.{proj}.weight"][n].zero_();
                w[$"model.layers.{layer}.self_attn.v_proj.weight"][TensorIndex.Slice(16, 24)].zero_();
            }
        }
        var importance = WidthPruning.Measure(teacher, Calibration());
        foreach (var layer in new[] { 0, 1 })
        {
            Assert.Equal(0.0, importance.Neurons[layer][3]);
            Assert.Equal(0.0, importance.Neurons[layer][17]);
            Assert.Equal(0.0, importance.Heads[layer][2]);
            Assert.All(importance.Heads[layer].Where((_, h) => h != 2), v => Assert.True(v > 0));
        }

        using var student = Prune(teacher, importance, new PruneWidths(IntermediateSize: 38, AttentionHeads: 3));
        Assert.Equal(3, student.Config.KeyValueHeads);
        Assert.Equal(8, student.Config.HeadDimension);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(2, 10, seed: 9);
        var expected = teacher.Forward(new CausalLMInput { InputIds = ids }).Logits!;
        var actual = student.Forward(new CausalLMInput { InputIds = ids }).Logits!;
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), "pruning silent units changed the logits");
    }

    [Fact]
    public void Grouped_Heads_Should_Be_Kept_Or_Dropped_With_Their_Key_Value_Head()
    {
        using var teacher = TinyModels.Create(kvHeads: 2);
        using (no_grad())
        {
            // Key/value head 0 (query heads 0 and 1) carries zero values in both layers: its group goes.
            foreach (var layer in new[] { 0, 1 }) teacher.state_dict()[$"model.layers.{layer}.self_attn.v_proj.weight"][TensorIndex.Slice(0, 8)].zero_();
        }
        var importance = WidthPruning.Measure(teacher, Calibration());
        using var student = Prune(teacher, importance, new PruneWidths(AttentionHeads: 2));
        Assert.Equal(1, student.Config.KeyValueHeads);
        var t = teacher.state_dict();
        var s = student.state_dict();
        Assert.True(s["model.layers.1.self_attn.q_proj.weight"].allclose(t["model.layers.1.self_attn.q_proj.weight"][TensorIndex.Slice(16, 32)], rtol: 0, atol: 0));
        Assert.True(s["model.layers.1.self_attn.k_proj.weight"].allclose(t["model.layers.1.self_attn.k_proj.weight"][TensorIndex.Slice(8, 16)], rtol: 0, atol: 0));
        Assert.True(s["model.layers.1.self_attn.o_proj.weight"].allclose(t["model.layers.1.self_attn.o_proj.weight"][TensorIndex.Colon, TensorIndex.Slice(16, 32)], rtol: 0, atol: 0));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(1, 12, seed: 4);
        Assert.True(student.Forward(new CausalLMInput { InputIds = ids }).Logits!.allclose(teacher.Forward(new CausalLMInput { InputIds = ids }).Logits!, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Channels_Should_Be_Sliced_From_Every_Tensor_That_Reads_Or_Writes_Them()
    {
        using var teacher = TinyModels.Create("Qwen2ForCausalLM", kvHeads: 2);
        var importance = WidthPruning.Measure(teacher, Calibration());
        var kept = WidthPruning.Keep(importance.Channels, 24);
        using var student = Prune(teacher, importance, new PruneWidths(HiddenSize: 24));
        Assert.Equal(8, student.Config.HeadDimension); // 24 / 4 heads would be 6: head_dim is written
        var index = tensor(kept.Select(i => (long)i).ToArray());
        var t = teacher.state_dict();
        var s = student.state_dict();
        Assert.True(s["model.embed_tokens.weight"].allclose(t["model.embed_tokens.weight"].index_select(1, index), rtol: 0, atol: 0));
        Assert.True(s["model.norm.weight"].allclose(t["model.norm.weight"].index_select(0, index), rtol: 0, atol: 0));
        Assert.True(s["model.layers.0.self_attn.q_proj.weight"].allclose(t["model.layers.0.self_attn.q_proj.weight"].index_select(1, index), rtol: 0, atol: 0));
        Assert.True(s["model.layers.0.self_attn.q_proj.bias"].allclose(t["model.layers.0.self_attn.q_proj.bias"], rtol: 0, atol: 0));
        Assert.True(s["model.layers.0.self_attn.o_proj.weight"].allclose(t["model.layers.0.self_attn.o_proj.weight"].index_select(0, index), rtol: 0, atol: 0));
        Assert.True(s["model.layers.1.mlp.down_proj.weight"].allclose(t["model.layers.1.mlp.down_proj.weight"].index_select(0, index), rtol: 0, atol: 0));
        Assert.True(s["lm_head.weight"].allclose(t["lm_head.weight"].index_select(1, index), rtol: 0, atol: 0));
        // The least important channels are the ones dropped.
        double weakestKept = kept.Min(c => importance.Channels[c]);
        Assert.All(Enumerable.Range(0, 32).Except(kept), c => Assert.True(importance.Channels[c] <= weakestKept));
    }

    [Fact]
    public void Student_Init_Should_Write_A_Pruned_Folder_That_Loads_With_Its_Provenance()
    {
        string teacherDir = _folder.Sub("teacher");
        using (var teacher = TinyModels.Create(kvHeads: 2)) HfModelFolder.Save(teacher, teacherDir);
        var made = StudentInit.Run(new StudentInitOptions(teacherDir, _folder.Sub("student"), Layers: [1],
            Widths: new PruneWidths(HiddenSize: 16, IntermediateSize: 20, AttentionHeads: 2), Calibration: Calibration()));
        Assert.Equal((1, 16, 20, 2, 1), (made.NumHiddenLayers, made.HiddenSize, made.IntermediateSize, made.NumAttentionHeads, made.KeyValueHeads));
        using var loaded = HfModelFolder.Load(_folder.Sub("student"), CPU, ScalarType.Float32);
        var provenance = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder.Sub("student"), "config.json")))![StudentInit.ProvenanceKey]!;
        Assert.Equal("pruned", provenance["method"]!.GetValue<string>());
        Assert.Equal(3, provenance["calibration_sequences"]!.GetValue<int>());
        Assert.StartsWith("width-pruned teacher layers 1 of ", StudentInit.Describe(loaded.Config));
    }

    [Theory]
    [InlineData(null, null, 3, "groups of 2")]
    [InlineData(40, null, null, "between 1 and the teacher's 32")]
    [InlineData(null, 0, null, "between 1 and the teacher's 40")]
    public void Bad_Widths_Should_Be_Refused_Before_Any_Weight_Is_Read(int? hidden, int? intermediate, int? heads, string reason)
    {
        string teacherDir = _folder.Sub("t");
        using (var teacher = TinyModels.Create(kvHeads: 2)) HfModelFolder.Save(teacher, teacherDir);
        var e = Assert.Throws<InvalidDataException>(() => StudentInit.Run(new StudentInitOptions(teacherDir, _folder.Sub("bad"),
            Widths: new PruneWidths(hidden, intermediate, heads), Calibration: Calibration())));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder.Sub("bad")) && Directory.EnumerateFileSystemEntries(_folder.Sub("bad")).Any());
    }

    private static LlamaForCausalLM Prune(LlamaForCausalLM teacher, WidthImportance importance, PruneWidths widths)
    {
        var raw = teacher.Config.Raw.DeepClone().AsObject();
        WidthPruning.ApplyToConfig(raw, teacher.Config, widths);
        var student = new LlamaForCausalLM(LlamaConfig.Parse(raw.ToJsonString()), CPU, ScalarType.Float32);
        WidthPruning.Copy(teacher, student, [0, 1], importance);
        return student;
    }
}
