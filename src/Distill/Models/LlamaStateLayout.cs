namespace Distill.Models;

/// <summary>
/// The state-dict names and shapes a config implies, computed without building the model, so a folder's
/// weights can be checked before anything is allocated (a hostile config cannot ask for more memory than
/// the files it comes with hold).
/// </summary>
public static class LlamaStateLayout
{
    /// <summary>Every tensor <see cref="LlamaForCausalLM"/> holds for <paramref name="config"/>, in state-dict order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Expected(LlamaConfig config)
    {
        long hidden = config.HiddenSize;
        long q = (long)config.NumAttentionHeads * config.HeadDimension;
        long kv = (long)config.KeyValueHeads * config.HeadDimension;
        long mlp = config.IntermediateSize;
        var (qkvBias, oBias, mlpBias) = (config.QkvBias, config.OutputProjectionBias, config.MlpProjectionBias);
        var layout = new List<(string, long[])> { ("model.embed_tokens.weight", [config.VocabSize, hidden]) };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            AddLinear(layout, p + "self_attn.q_proj", q, hidden, qkvBias);
            AddLinear(layout, p + "self_attn.k_proj", kv, hidden, qkvBias);
            AddLinear(layout, p + "self_attn.v_proj", kv, hidden, qkvBias);
            AddLinear(layout, p + "self_attn.o_proj", hidden, q, oBias);
            AddLinear(layout, p + "mlp.gate_proj", mlp, hidden, mlpBias);
            AddLinear(layout, p + "mlp.up_proj", mlp, hidden, mlpBias);
            AddLinear(layout, p + "mlp.down_proj", hidden, mlp, mlpBias);
            layout.Add((p + "input_layernorm.weight", [hidden]));
            layout.Add((p + "post_attention_layernorm.weight", [hidden]));
        }
        layout.Add(("model.norm.weight", [hidden]));
        if (!config.TieWordEmbeddings) layout.Add(("lm_head.weight", [config.VocabSize, hidden]));
        return layout;
    }

    private static void AddLinear(List<(string, long[])> layout, string name, long outFeatures, long inFeatures, bool bias)
    {
        layout.Add((name + ".weight", [outFeatures, inFeatures]));
        if (bias) layout.Add((name + ".bias", [outFeatures]));
    }
}
