using System.CommandLine;
using System.Text.Json.Nodes;
using Distill.Cli;
using Distill.Models;
using Distill.Tests.Text.Conversations;
using Distill.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public sealed class StudentInitTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TinyModelFolder _tokenizer = new();
    private readonly string _teacher;

    public StudentInitTests()
    {
        _teacher = _folder.Sub("teacher");
        random.manual_seed(5);
        using var model = new LlamaForCausalLM(TrainingTestData.Config(hidden: 16, layers: 4, initRange: 0.3, vocab: 420), CPU, ScalarType.Float32);
        HfModelFolder.Save(model, _teacher);
        File.Copy(Path.Combine(_tokenizer.Path, "tokenizer.json"), Path.Combine(_teacher, "tokenizer.json"));
    }

    public void Dispose()
    {
        _tokenizer.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Copied_Layers_Should_Be_Exactly_The_Chosen_Teacher_Tensors_Under_Their_New_Index()
    {
        var made = StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("s"), Layers: [3, 1]));
        Assert.Equal(2, made.NumHiddenLayers);
        using var teacher = HfModelFolder.Load(_teacher, CPU, ScalarType.Float32);
        using var student = HfModelFolder.Load(_folder.Sub("s"), CPU, ScalarType.Float32);
        var t = teacher.state_dict();
        foreach (var (name, tensor) in student.state_dict())
        {
            var from = name.Replace("model.layers.0.", "model.layers.3.", StringComparison.Ordinal).Replace("model.layers.1.", "model.layers.1.", StringComparison.Ordinal);
            Assert.True(tensor.allclose(t[from], rtol: 0, atol: 0), $"{name} is not the teacher's {from}");
        }
        Assert.True(File.ReadAllBytes(Path.Combine(_teacher, "tokenizer.json")).SequenceEqual(File.ReadAllBytes(Path.Combine(_folder.Sub("s"), "tokenizer.json"))));
        var provenance = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder.Sub("s"), "config.json")))![StudentInit.ProvenanceKey]!;
        Assert.Equal("[3,1]", provenance["teacher_layers"]!.ToJsonString());
        Assert.Equal("teacher layers 3,1 of " + Path.GetFullPath(_teacher), HfModelInspector.Inspect(_folder.Sub("s")).StudentInit);
    }

    [Fact]
    public void A_Prefix_Of_The_Layers_Should_Compute_The_Teachers_Truncated_Forward()
    {
        StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("prefix"), Layers: [0, 1]));
        using var teacher = HfModelFolder.Load(_teacher, CPU, ScalarType.Float32);
        using var student = HfModelFolder.Load(_folder.Sub("prefix"), CPU, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 5, 300, 7, 12, 99, 401 }).unsqueeze(0);
        // The teacher's state after layer 1 (hidden_states[2]), through the final RMSNorm written out:
        // x / sqrt(mean(x²) + eps) · w.
        var h = teacher.Forward(new CausalLMInput { InputIds = ids, OutputHiddenStates = true }).HiddenStates![2];
        var w = teacher.state_dict()["model.norm.weight"];
        var expected = h / (h.pow(2).mean([-1], keepdim: true) + teacher.Config.RmsNormEps).sqrt() * w;
        var actual = student.Forward(new CausalLMInput { InputIds = ids }).LastHiddenState;
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_Smaller_Random_Student_Should_Be_Seeded_And_Keep_The_Tokenizer()
    {
        var overrides = new JsonObject { ["hidden_size"] = 8, ["num_hidden_layers"] = 1, ["intermediate_size"] = 12 };
        StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("r1"), ConfigOverrides: overrides, Seed: 3));
        StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("r2"), ConfigOverrides: overrides, Seed: 3));
        StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("r3"), ConfigOverrides: overrides, Seed: 4));
        byte[] Weights(string dir) => File.ReadAllBytes(Path.Combine(_folder.Sub(dir), "model.safetensors"));
        Assert.Equal(Weights("r1"), Weights("r2"));
        Assert.NotEqual(Weights("r1"), Weights("r3"));
        var config = LlamaConfig.Load(Path.Combine(_folder.Sub("r1"), "config.json"));
        Assert.Equal((8, 1, 420), (config.HiddenSize, config.NumHiddenLayers, config.VocabSize));
        Assert.True(File.Exists(Path.Combine(_folder.Sub("r1"), "tokenizer.json")));
        Assert.StartsWith("random initialisation (seed 3)", StudentInit.Describe(config), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4", "layer 4 is outside the teacher's layers 0..3")]
    [InlineData("-1", "layer -1 is outside")]
    [InlineData("0,2,0", "layer 0 is chosen more than once")]
    public void Bad_Layers_Should_Be_Clear_Errors_That_Write_Nothing(string layers, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            StudentInit.Run(new StudentInitOptions(_teacher, _folder.Sub("bad"), Layers: [.. layers.Split(',').Select(int.Parse)])));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder.Sub("bad")));
    }

    [Fact]
    public void The_Command_Should_Copy_Every_Other_Layer_And_Inspect_Should_Say_So()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = Program.CreateRoot().Parse(["init-student", "--teacher", _teacher, "--out", _folder.Sub("every"), "--every", "2"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.Equal(0, code);
        Assert.Contains("teacher layers 0,2", output.ToString(), StringComparison.Ordinal);
        output = new StringWriter();
        Program.CreateRoot().Parse(["inspect", _folder.Sub("every")]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.Contains("made from", output.ToString(), StringComparison.Ordinal);

        code = Program.CreateRoot().Parse(["init-student", "--teacher", _teacher, "--out", _folder.Sub("x"), "--every", "2", "--layers", "1"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.NotEqual(0, code);
        Assert.Contains("exactly one of", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_Command_Should_Prune_Widths_On_Calibration_Data_And_Refuse_Pruning_Without_It()
    {
        string calibration = Path.Combine(_folder.Path, "calibration.jsonl");
        File.WriteAllLines(calibration, ["{\"input_ids\": [5, 300, 7, 12, 99]}", "{\"input_ids\": [401, 3, 3, 18]}"]);
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = Program.CreateRoot().Parse(["init-student", "--teacher", _teacher, "--out", _folder.Sub("narrow"), "--every", "2",
            "--hidden-size", "8", "--intermediate-size", "20", "--calibration", calibration]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.True(code == 0, error.ToString());
        Assert.Contains("2 layers, hidden 8; width-pruned teacher layers 0,2", output.ToString(), StringComparison.Ordinal);
        var config = LlamaConfig.Load(Path.Combine(_folder.Sub("narrow"), "config.json"));
        Assert.Equal((8, 20), (config.HiddenSize, config.IntermediateSize));

        code = Program.CreateRoot().Parse(["init-student", "--teacher", _teacher, "--out", _folder.Sub("nocal"), "--hidden-size", "8"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.NotEqual(0, code);
        Assert.Contains("width pruning needs --calibration", error.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder.Sub("nocal")));
    }
}
