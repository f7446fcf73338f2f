using System.Text.Json.Nodes;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class StateDictNamesTests
{
    // Written out from Hugging Face's module tree for hidden 32, 4 heads of 8, 2 kv heads, MLP 40, vocab 61.
    private static List<(string Name, long[] Shape)> Expected(bool tied, bool qkvBias, bool oBias, bool mlpBias)
    {
        var names = new List<(string, long[])> { ("model.embed_tokens.weight", [61, 32]) };
        for (var i = 0; i < 2; i++)
        {
            var p = $"model.layers.{i}.";
            names.Add((p + "self_attn.q_proj.weight", [32, 32]));
            if (qkvBias) names.Add((p + "self_attn.q_proj.bias", [32]));
            names.Add((p + "self_attn.k_proj.weight", [16, 32]));
            if (qkvBias) names.Add((p + "self_attn.k_proj.bias", [16]));
            names.Add((p + "self_attn.v_proj.weight", [16, 32]));
            if (qkvBias) names.Add((p + "self_attn.v_proj.bias", [16]));
            names.Add((p + "self_attn.o_proj.weight", [32, 32]));
            if (oBias) names.Add((p + "self_attn.o_proj.bias", [32]));
            names.Add((p + "mlp.gate_proj.weight", [40, 32]));
            if (mlpBias) names.Add((p + "mlp.gate_proj.bias", [40]));
            names.Add((p + "mlp.up_proj.weight", [40, 32]));
            if (mlpBias) names.Add((p + "mlp.up_proj.bias", [40]));
            names.Add((p + "mlp.down_proj.weight", [32, 40]));
            if (mlpBias) names.Add((p + "mlp.down_proj.bias", [32]));
            names.Add((p + "input_layernorm.weight", [32]));
            names.Add((p + "post_attention_layernorm.weight", [32]));
        }
        names.Add(("model.norm.weight", [32]));
        if (!tied) names.Add(("lm_head.weight", [61, 32]));
        return names;
    }

    private static void AssertNames(LlamaForCausalLM model, List<(string Name, long[] Shape)> expected)
    {
        var actual = model.state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        Assert.Equal(expected.Select(e => e.Name), actual.Select(a => a.Key));
        for (var i = 0; i < expected.Count; i++)
            Assert.True(expected[i].Shape.SequenceEqual(actual[i].shape), $"{expected[i].Name}: [{string.Join(",", actual[i].shape)}]");
        var layout = LlamaStateLayout.Expected(model.Config);
        Assert.Equal(expected.Select(e => e.Name), layout.Select(l => l.Name));
        Assert.Equal(expected.Select(e => string.Join(",", e.Shape)), layout.Select(l => string.Join(",", l.Shape)));
    }

    [Fact]
    public void Llama_Untied_Has_Hugging_Face_Names_And_Shapes()
    {
        using var model = TinyModels.Create();
        AssertNames(model, Expected(tied: false, qkvBias: false, oBias: false, mlpBias: false));
    }

    [Fact]
    public void Llama_Tied_Has_No_Lm_Head_And_Projects_With_The_Embedding()
    {
        using var model = TinyModels.Create(tied: true);
        AssertNames(model, Expected(tied: true, qkvBias: false, oBias: false, mlpBias: false));
        Assert.True(model.LmHeadWeight.eq(model.state_dict()["model.embed_tokens.weight"]).all().item<bool>());
    }

    [Fact]
    public void Qwen2_Has_Biases_On_Q_K_V_But_Not_O()
    {
        using var model = TinyModels.Create("Qwen2ForCausalLM");
        AssertNames(model, Expected(tied: false, qkvBias: true, oBias: false, mlpBias: false));
    }

    [Fact]
    public void Llama_Attention_Bias_And_Mlp_Bias_Put_Biases_On_All_Projections()
    {
        var json = TinyModels.ConfigJson(tied: true);
        json["attention_bias"] = true;
        json["mlp_bias"] = true;
        using var model = TinyModels.Create(json);
        AssertNames(model, Expected(tied: true, qkvBias: true, oBias: true, mlpBias: true));
    }

    [Fact]
    public void Mistral_Has_No_Biases()
    {
        using var model = TinyModels.Create("MistralForCausalLM");
        AssertNames(model, Expected(tied: false, qkvBias: false, oBias: false, mlpBias: false));
    }

    [Fact]
    public void Bf16_Model_Holds_Every_Parameter_In_Bf16()
    {
        using var model = TinyModels.Create(dtype: ScalarType.BFloat16);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(61 * 32 * 2 + 32 + 2 * (32 * 32 * 2 + 16 * 32 * 2 + 40 * 32 * 3 + 64), model.ParameterCount());
    }
}
