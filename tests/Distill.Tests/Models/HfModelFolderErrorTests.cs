using Distill.Models;
using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class HfModelFolderErrorTests
{
    private static string SavedModel(TempFolder temp)
    {
        using var model = TinyModels.Create();
        var dir = temp.Sub("m");
        HfModelFolder.Save(model, dir);
        return dir;
    }

    // Rewrites model.safetensors with the edit applied to its tensor list.
    private static void EditWeights(string dir, Action<Dictionary<string, Tensor>> edit)
    {
        var path = Path.Combine(dir, "model.safetensors");
        Dictionary<string, Tensor> tensors;
        using (var file = SafetensorsFile.Open(path))
            tensors = file.Tensors.ToDictionary(t => t.Name, t => file.Load(t.Name));
        edit(tensors);
        SafetensorsWriter.Write(path, tensors);
    }

    private static T AssertLoadFails<T>(string dir) where T : Exception
    {
        var before = Directory.GetFiles(dir).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();
        var error = Assert.Throws<T>(() => HfModelFolder.Load(dir, CPU, ScalarType.Float32));
        Assert.Equal(before, Directory.GetFiles(dir).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList());
        return error;
    }

    [Fact]
    public void Missing_Tensor_Is_Named_With_The_Weights_File()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        EditWeights(dir, t => t.Remove("model.norm.weight"));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains(Path.Combine(dir, "model.safetensors"), error.Message);
        Assert.Contains("'model.norm.weight' is missing", error.Message);
    }

    [Fact]
    public void Unexpected_Tensor_Is_Named_But_Rotary_Buffers_Are_Ignored()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        EditWeights(dir, t => t["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(4));
        using (HfModelFolder.Load(dir, CPU, ScalarType.Float32)) { }
        EditWeights(dir, t => t["model.layers.2.mlp.up_proj.weight"] = ones(40, 32));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains(Path.Combine(dir, "model.safetensors"), error.Message);
        Assert.Contains("'model.layers.2.mlp.up_proj.weight' is unexpected", error.Message);
    }

    [Fact]
    public void Wrong_Shape_Is_Named_With_Both_Shapes()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        EditWeights(dir, t => t["model.layers.1.self_attn.k_proj.weight"] = ones(32, 32));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains("'model.layers.1.self_attn.k_proj.weight' has shape [32, 32], expected [16, 32]", error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void Integer_Weights_Are_Rejected()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        EditWeights(dir, t => t["model.norm.weight"] = ones(new long[] { 32 }, ScalarType.Int32));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains("'model.norm.weight' has dtype I32", error.Message);
    }

    [Fact]
    public void Missing_Config_Key_Is_Named_With_The_Config_File()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"hidden_size\"", "\"hidden_size_typo\"", StringComparison.Ordinal));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Equal($"{config}: key 'hidden_size' is missing", error.Message);
    }

    [Fact]
    public void Unsupported_Architecture_Is_Named()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("LlamaForCausalLM", "GPT2LMHeadModel", StringComparison.Ordinal));

        var error = AssertLoadFails<NotSupportedException>(dir);

        Assert.Contains("architecture 'GPT2LMHeadModel' is not supported", error.Message);
    }

    [Fact]
    public void Shard_Outside_The_Folder_Is_Rejected()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), "{\"weight_map\": {\"model.norm.weight\": \"../x.safetensors\"}}");

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains("'model.norm.weight'", error.Message);
        Assert.Contains("not a plain file name", error.Message);
    }

    [Fact]
    public void Folder_Without_Weights_Is_Reported()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        File.Delete(Path.Combine(dir, "model.safetensors"));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", error.Message);
    }

    [Fact]
    public void Huge_Config_Is_Rejected_By_The_Header_Check_Before_Anything_Is_Allocated()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace("\"vocab_size\": 61", "\"vocab_size\": 2000000000", StringComparison.Ordinal)
            .Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", StringComparison.Ordinal));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Contains("'model.embed_tokens.weight' has shape [61, 32], expected [2000000000, 32]", error.Message);
        Assert.Contains("more", error.Message);
    }

    [Fact]
    public void Layer_Count_Beyond_The_Stored_Tensors_Is_Rejected_Without_Listing_Them()
    {
        using var temp = new TempFolder();
        var dir = SavedModel(temp);
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2000000000", StringComparison.Ordinal));

        var error = AssertLoadFails<InvalidDataException>(dir);

        Assert.Equal($"{config}: key 'num_hidden_layers' is 2000000000, but the weights hold only 21 tensors", error.Message);
    }
}
