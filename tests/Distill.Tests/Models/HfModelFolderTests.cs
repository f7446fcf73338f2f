using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class HfModelFolderTests
{
    private static void AssertSameWeights(LlamaForCausalLM expected, LlamaForCausalLM actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, tensor) in a)
        {
            Assert.Equal(tensor.dtype, b[name].dtype);
            Assert.True(tensor.eq(b[name]).all().item<bool>(), name);
        }
    }

    private static string SourceFolder(TempFolder temp)
    {
        var source = temp.Sub("source");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "tokenizer.json"), "{\"model\": {}}");
        File.WriteAllText(Path.Combine(source, "tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        File.WriteAllText(Path.Combine(source, "generation_config.json"), "{\"eos_token_id\": [2, 5], \"temperature\": 0.6}");
        return source;
    }

    [Theory]
    [InlineData(ScalarType.Float32, "float32")]
    [InlineData(ScalarType.BFloat16, "bfloat16")]
    public void Save_Then_Load_Is_Bit_Exact_And_Keeps_Config_Tokenizer_And_Generation_Files(ScalarType dtype, string dtypeName)
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create("Qwen2ForCausalLM", dtype: dtype);
        var dir = temp.Sub("out");

        HfModelFolder.Save(model, dir, new HfSaveOptions { SourceDirectory = SourceFolder(temp) });
        using var loaded = HfModelFolder.Load(dir, CPU, dtype);

        AssertSameWeights(model, loaded);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(dtypeName, config["torch_dtype"]!.GetValue<string>());
        Assert.True(config["some_unknown_key"]!["kept"]!.GetValue<bool>());
        Assert.Equal("{\"model\": {}}", File.ReadAllText(Path.Combine(dir, "tokenizer.json")));
        Assert.Contains("temperature", File.ReadAllText(Path.Combine(dir, "generation_config.json")));
        using var file = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(Path.Combine(temp.Path), Path.GetDirectoryName(dir));
        Assert.Equal(["out", "source"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Tied_Model_Saves_No_Lm_Head_And_Loads_Back()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create(tied: true);

        HfModelFolder.Save(model, temp.Path + "/m/"); // a trailing separator names the same folder
        using var loaded = HfModelFolder.Load(temp.Path + "/m", CPU, ScalarType.Float32);

        using (var file = SafetensorsFile.Open(temp.Path + "/m/model.safetensors"))
            Assert.False(file.Contains("lm_head.weight"));
        AssertSameWeights(model, loaded);
        var generation = JsonNode.Parse(File.ReadAllText(temp.Path + "/m/generation_config.json"))!;
        Assert.Equal(1, generation["bos_token_id"]!.GetValue<int>());
        Assert.Equal(2, generation["eos_token_id"]!.GetValue<int>());
    }

    [Fact]
    public void Sharded_Save_Writes_An_Index_And_Loads_Back()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create();
        var dir = temp.Sub("sharded");

        HfModelFolder.Save(model, dir, new HfSaveOptions { MaxShardBytes = 20_000 });
        using var loaded = HfModelFolder.Load(dir, CPU, ScalarType.Float32);

        AssertSameWeights(model, loaded);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "model.safetensors.index.json")))!;
        var shards = index["weight_map"]!.AsObject().Select(kv => kv.Value!.GetValue<string>()).Distinct().ToList();
        Assert.True(shards.Count > 1);
        Assert.All(shards, s => Assert.Matches($"^model-0000[1-9]-of-0000{shards.Count}\\.safetensors$", s));
        var bytes = model.state_dict().Values.Sum(t => t.numel() * 4);
        Assert.Equal(bytes, index["metadata"]!["total_size"]!.GetValue<long>());
    }

    [Fact]
    public void Fp32_Weights_Load_Into_A_Bf16_Model_Rounded()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create();
        HfModelFolder.Save(model, temp.Sub("m"));

        using var loaded = HfModelFolder.Load(temp.Sub("m"), CPU, ScalarType.BFloat16);

        Assert.Equal(ScalarType.BFloat16, loaded.DType);
        foreach (var (name, tensor) in loaded.state_dict())
            Assert.True(tensor.eq(model.state_dict()[name].to_type(ScalarType.BFloat16)).all().item<bool>(), name);
    }

    [Fact]
    public void Save_Refuses_A_Non_Empty_Folder_Unless_Overwriting()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create();
        var dir = temp.Sub("m");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "x");

        Assert.Throws<IOException>(() => HfModelFolder.Save(model, dir));
        Assert.True(File.Exists(Path.Combine(dir, "keep.txt")));

        HfModelFolder.Save(model, dir, new HfSaveOptions { Overwrite = true });
        Assert.False(File.Exists(Path.Combine(dir, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Single(Directory.GetDirectories(temp.Path));
    }

    [Fact]
    public void Failed_Save_Leaves_Nothing_Behind()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        using var model = TinyModels.Create();

        Assert.Throws<DirectoryNotFoundException>(() =>
            HfModelFolder.Save(model, temp.Sub("m"), new HfSaveOptions { SourceDirectory = temp.Sub("no-such-folder") }));

        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void Saved_Config_Keeps_The_Original_Values_Verbatim_And_Updates_Only_The_Dtype()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var text = TinyModels.ConfigJson().ToJsonString().Replace("1E-05", "1e-05", StringComparison.Ordinal);
        Assert.Contains("\"rms_norm_eps\":1e-05", text);
        using var model = new LlamaForCausalLM(LlamaConfig.Parse(text), CPU, ScalarType.BFloat16);

        HfModelFolder.Save(model, temp.Sub("m"));

        var saved = JsonNode.Parse(File.ReadAllText(temp.Sub("m/config.json")))!.AsObject();
        var original = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(original.Select(kv => kv.Key), saved.Select(kv => kv.Key));
        Assert.Contains("\"rms_norm_eps\": 1e-05", File.ReadAllText(temp.Sub("m/config.json")));
        Assert.Equal("bfloat16", saved["torch_dtype"]!.GetValue<string>());
        original["torch_dtype"] = "bfloat16";
        Assert.True(JsonNode.DeepEquals(original, saved));
    }
}
