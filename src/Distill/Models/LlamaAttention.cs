using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Multi-head self-attention with grouped key/value heads and rotary positions. Biases follow the
/// family: Llama puts <c>attention_bias</c> on all four projections, Qwen2 on q/k/v only, Mistral none.
/// </summary>
public sealed class LlamaAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly double _dropout;
    private readonly int _layerIndex;

    /// <summary>HF names: q_proj [H·D, hidden], k_proj/v_proj [KV·D, hidden], o_proj [hidden, H·D].</summary>
    private readonly Linear q_proj, k_proj, v_proj, o_proj;

    /// <summary>Creates the projections for <paramref name="config"/> on <paramref name="device"/> in <paramref name="dtype"/>;
    /// <paramref name="layerIndex"/> says which slot of a <see cref="Generation.KvCache"/> is this layer's.</summary>
    public LlamaAttention(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32, int layerIndex = 0)
        : base(nameof(LlamaAttention))
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.KeyValueHeads;
        _headDim = config.HeadDimension;
        _dropout = config.AttentionDropout;
        q_proj = nn.Linear(config.HiddenSize, _heads * _headDim, config.QkvBias, device, dtype);
        k_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, config.QkvBias, device, dtype);
        v_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, config.QkvBias, device, dtype);
        o_proj = nn.Linear(_heads * _headDim, config.HiddenSize, config.OutputProjectionBias, device, dtype);
        RegisterComponents();
    }

    /// <summary>Attends over <paramref name="hidden"/> [B, T, hidden]; returns [B, T, hidden].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (hidden.shape[0], hidden.shape[1]);
        var q = q_proj.forward(hidden).view(b, t, _heads, _headDim).transpose(1, 2); // [B, H, T, D]
        var k = k_proj.forward(hidden).view(b, t, _kvHeads, _headDim).transpose(1, 2); // [B, KV, T, D]
        var v = v_proj.forward(hidden).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = LlamaRotaryEmbedding.Apply(q, context.Cos, context.Sin);
        k = LlamaRotaryEmbedding.Apply(k, context.Cos, context.Sin);
        if (context.Cache is { } cache) (k, v) = cache.Append(_layerIndex, k, v); // [B, KV, S + T, D]
        context.Capture?.Keep(_layerIndex, q, k, v);
        if (_kvHeads != _heads)
        {
            // TorchSharp 0.107's scaled_dot_product_attention has no enable_gqa: query head h reads kv head h / group.
            var group = _heads / _kvHeads;
            k = k.repeat_interleave(group, dim: 1);
            v = v.repeat_interleave(group, dim: 1);
        }
        var p = training ? _dropout : 0.0;
        var attended = context.Mask is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, null, p, is_casual: true)
            : nn.functional.scaled_dot_product_attention(q, k, v, context.Mask, p, is_casual: false); // [B, H, T, D]
        var merged = attended.transpose(1, 2).reshape(b, t, _heads * _headDim);
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }
}
