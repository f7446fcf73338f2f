using System.Text.Json.Nodes;
using Distill.Models;

namespace Distill.Tests.Models;

public class LlamaConfigTests
{
    private static LlamaConfig Parse(Action<JsonObject> edit, string architecture = "LlamaForCausalLM")
    {
        var json = TinyModels.ConfigJson(architecture);
        edit(json);
        return LlamaConfig.Parse(json.ToJsonString(), "/models/x/config.json");
    }

    [Fact]
    public void Absent_Optional_Keys_Take_Hugging_Face_Defaults()
    {
        var config = Parse(j =>
        {
            foreach (var key in new[] { "num_key_value_heads", "rms_norm_eps", "rope_theta", "tie_word_embeddings", "max_position_embeddings", "bos_token_id", "eos_token_id" })
                j.Remove(key);
        });

        Assert.Equal(4, config.KeyValueHeads);
        Assert.Equal(8, config.HeadDimension);
        Assert.Equal(1e-6, config.RmsNormEps);
        Assert.Equal(10000.0, config.EffectiveRopeTheta);
        Assert.False(config.TieWordEmbeddings);
        Assert.Equal(2048, config.MaxPositionEmbeddings);
        Assert.Equal([1], config.BosTokenId!);
        Assert.Equal([2], config.EosTokenId!);
        Assert.Null(config.EffectiveRopeScaling);
    }

    [Fact]
    public void Mistral_Defaults_To_A_4096_Sliding_Window_And_Explicit_Null_Disables_It()
    {
        Assert.Equal(4096, Parse(_ => { }, "MistralForCausalLM").EffectiveSlidingWindow);
        Assert.Null(Parse(j => j["sliding_window"] = null, "MistralForCausalLM").EffectiveSlidingWindow);
        Assert.Null(Parse(j => j["sliding_window"] = 16).EffectiveSlidingWindow);
    }

    [Fact]
    public void Explicit_Head_Dim_And_Eos_List_And_Llama3_Rope_Scaling_Are_Read()
    {
        var config = Parse(j =>
        {
            j["head_dim"] = 16;
            j["eos_token_id"] = new JsonArray(128001, 128008, 128009);
            j["rope_scaling"] = JsonNode.Parse("""{"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}""");
        });

        Assert.Equal(16, config.HeadDimension);
        Assert.Equal([128001, 128008, 128009], config.EosTokenId!);
        Assert.Equal("llama3", config.EffectiveRopeScaling!.Kind);
        Assert.Equal(8192, config.EffectiveRopeScaling.OriginalMaxPositionEmbeddings);
    }

    [Fact]
    public void Transformers_V5_Rope_Parameters_Supply_Theta_And_Scaling()
    {
        var config = Parse(j =>
        {
            j.Remove("rope_theta");
            j["rope_parameters"] = JsonNode.Parse("""{"rope_type": "linear", "factor": 2.0, "rope_theta": 500000.0}""");
        });

        Assert.Equal(500000.0, config.EffectiveRopeTheta);
        Assert.Equal("linear", config.EffectiveRopeScaling!.Kind);
    }

    [Fact]
    public void Model_Type_Alone_Selects_The_Family()
    {
        var config = Parse(j => j.Remove("architectures"), "Qwen2ForCausalLM");
        Assert.Equal(ModelFamily.Qwen2, config.Family);
    }

    [Theory]
    [InlineData("vocab_size")]
    [InlineData("intermediate_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("num_attention_heads")]
    public void Missing_Required_Key_Is_Named(string key)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(j => j.Remove(key)));
        Assert.Equal($"/models/x/config.json: key '{key}' is missing", error.Message);
    }

    [Fact]
    public void Wrongly_Typed_Value_Is_Named()
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(j => j["hidden_size"] = "wide"));
        Assert.StartsWith("/models/x/config.json: key 'hidden_size'", error.Message);
    }

    [Fact]
    public void Kv_Heads_That_Do_Not_Divide_The_Heads_Are_Invalid()
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(j => j["num_key_value_heads"] = 3));
        Assert.Contains("key 'num_key_value_heads' is invalid", error.Message);
    }

    [Fact]
    public void Llama3_Scaling_Without_Original_Length_Is_Invalid()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            Parse(j => j["rope_scaling"] = JsonNode.Parse("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}""")));
        Assert.Contains("rope_scaling.original_max_position_embeddings", error.Message);
    }

    [Theory]
    [InlineData("architectures", "[\"GPT2LMHeadModel\"]", "GPT2LMHeadModel")]
    [InlineData("rope_scaling", "{\"type\": \"yarn\", \"factor\": 4.0}", "yarn")]
    [InlineData("hidden_act", "\"gelu\"", "gelu")]
    public void Unsupported_Constructs_Are_Named(string key, string value, string named)
    {
        var error = Assert.Throws<NotSupportedException>(() => Parse(j => j[key] = JsonNode.Parse(value)));
        Assert.Contains($"'{named}'", error.Message);
        Assert.StartsWith("/models/x/config.json", error.Message);
    }

    [Fact]
    public void Qwen2_Sliding_Window_Is_Not_Supported()
    {
        Assert.Throws<NotSupportedException>(() => Parse(j => j["use_sliding_window"] = true, "Qwen2ForCausalLM"));
    }

    [Fact]
    public void Not_Json_Is_Invalid_Data()
    {
        var error = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse("{\"vocab_size\": ", "c.json"));
        Assert.StartsWith("c.json", error.Message);
    }
}
