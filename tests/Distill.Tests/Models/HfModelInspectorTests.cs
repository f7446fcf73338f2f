using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class HfModelInspectorTests
{
    [Fact]
    public void Inspect_Reports_Shape_Size_DType_And_Special_Tokens_From_Every_File()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var source = temp.Sub("source");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "tokenizer.json"), """{"added_tokens": [{"id": 1, "content": "<s>"}, {"id": 2, "content": "</s>"}]}""");
        File.WriteAllText(Path.Combine(source, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": {"content": "</s>"}, "pad_token": "<pad>"}""");
        File.WriteAllText(Path.Combine(source, "generation_config.json"), """{"bos_token_id": 1, "eos_token_id": [2, 5]}""");
        using var model = TinyModels.Create(tied: true, dtype: ScalarType.BFloat16);
        var dir = temp.Sub("m");
        HfModelFolder.Save(model, dir, new HfSaveOptions { SourceDirectory = source });

        var summary = HfModelInspector.Inspect(dir);

        Assert.Equal("LlamaForCausalLM", summary.Architecture);
        Assert.Equal(61 * 32 + 32 + 2 * (32 * 32 * 2 + 16 * 32 * 2 + 40 * 32 * 3 + 64), summary.ParameterCount);
        Assert.Equal("bfloat16", summary.ConfigDtype);
        Assert.Equal(["BF16"], summary.WeightDtypes);
        Assert.Equal((61, 2, 32, 4, 2, 8, true), (summary.VocabSize, summary.Layers, summary.HiddenSize, summary.AttentionHeads, summary.KeyValueHeads, summary.HeadDim, summary.TiedEmbeddings));
        Assert.Equal(
        [
            "bos config.json 1 -", "eos config.json 2 -",
            "bos generation_config.json 1 -", "eos generation_config.json 2,5 -",
            "bos tokenizer_config.json 1 <s>", "eos tokenizer_config.json 2 </s>", "pad tokenizer_config.json - <pad>",
        ], summary.SpecialTokens.Select(t => $"{t.Role} {t.Source} {(t.Ids is null ? "-" : string.Join(",", t.Ids))} {t.Text ?? "-"}"));
    }

    // Folders that cannot load must not look healthy: inspect makes the checks loading makes.
    [Theory]
    [InlineData("missing", "model.norm.weight")]
    [InlineData("extra", "model.layers.0.extra.weight")]
    [InlineData("shape", "model.norm.weight")]
    public void Inspect_Should_Name_A_Missing_Extra_Or_Misshapen_Tensor(string defect, string tensor)
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create();
        var dir = temp.Sub("m");
        HfModelFolder.Save(model, dir);
        var path = Path.Combine(dir, "model.safetensors");
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var file = Distill.Tensors.SafetensorsFile.Open(path))
            foreach (var info in file.Tensors)
            {
                var t = file.Load(info.Name);
                if (defect == "missing" && info.Name == tensor) continue;
                tensors.Add(new(info.Name, defect == "shape" && info.Name == tensor ? t.narrow(0, 0, 3).contiguous() : t));
            }
        if (defect == "extra") tensors.Add(new(tensor, zeros(2)));
        Distill.Tensors.SafetensorsWriter.Write(path, tensors);

        var e = Assert.Throws<InvalidDataException>(() => HfModelInspector.Inspect(dir));

        Assert.Contains(tensor, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_Should_Name_An_Eos_Id_Outside_The_Vocabulary()
    {
        using var temp = new TempFolder();
        var source = temp.Sub("source");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "generation_config.json"), """{"eos_token_id": [2, 61]}""");
        using var model = TinyModels.Create();
        var dir = temp.Sub("m");
        HfModelFolder.Save(model, dir, new HfSaveOptions { SourceDirectory = source });

        var e = Assert.Throws<InvalidDataException>(() => HfModelInspector.Inspect(dir));

        Assert.Equal($"{Path.Combine(dir, "generation_config.json")}: the eos token id 61 is outside the vocabulary of 61 (config.json vocab_size)", e.Message);
    }

    [Fact]
    public void Inspect_Without_Weights_Reports_No_Parameter_Count()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Sub("config.json"), TinyModels.ConfigJson("MistralForCausalLM").ToJsonString());

        var summary = HfModelInspector.Inspect(temp.Path);

        Assert.Null(summary.ParameterCount);
        Assert.Equal("MistralForCausalLM", summary.Architecture);
        Assert.Empty(summary.WeightDtypes);
    }
}
