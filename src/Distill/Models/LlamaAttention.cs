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
        var p = training ? _dropout : 0.0;
        var attended = q.dtype is ScalarType.BFloat16 or ScalarType.Float16
            ? Explicit(q, k, v, context.Mask, p)
            : Fused(q, k, v, context.Mask, p);                                                   // [B, H, T, D]
        var merged = attended.transpose(1, 2).reshape(b, t, _heads * _headDim);
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }

    // libtorch's scaled_dot_product_attention: the faster of the two in fp32 (on the bench model, one thread, forward +
    // backward 105 ms against 118 ms a layer).
    private Tensor Fused(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout)
    {
        if (_kvHeads != _heads)
        {
            // TorchSharp 0.107's scaled_dot_product_attention has no enable_gqa: query head h reads kv head h / group.
            var group = _heads / _kvHeads;
            k = k.repeat_interleave(group, dim: 1);
            v = v.repeat_interleave(group, dim: 1);
        }
        return mask is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, null, dropout, is_casual: true)
            : nn.functional.scaled_dot_product_attention(q, k, v, mask, dropout, is_casual: false);
    }

    /// <summary>
    /// softmax(q·kᵀ/√D + mask)·v written out, as Hugging Face's eager attention: the scores are one batched matmul in the
    /// model's dtype, the softmax runs in fp32 and its probabilities are rounded back for the second matmul. In bf16 this is
    /// twice as fast as libtorch's fused kernel on the CPU (bench model, one thread, forward + backward 51 ms against 100 ms
    /// a layer), whose blocked softmax does not use the bf16 matmul units as well. Grouped heads are not repeated: the
    /// queries of a group are stacked against their one kv head ([B, KV, G·T, D] · [B, KV, D, S]).
    /// </summary>
    /// <param name="q">[B, H, T, D] queries.</param>
    /// <param name="k">[B, KV, S, D] keys.</param>
    /// <param name="v">[B, KV, S, D] values.</param>
    /// <param name="mask">[B or 1, 1, T, S] bool, true where a query may attend a key; null for plain causal (S = T).</param>
    /// <param name="dropout">Dropout on the attention probabilities.</param>
    internal Tensor Explicit(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout)
    {
        using var scope = NewDisposeScope();
        var (b, t, s) = (q.shape[0], q.shape[2], k.shape[2]);
        var group = _heads / _kvHeads;
        var grouped = (q * (1.0 / Math.Sqrt(_headDim))).reshape(b, _kvHeads, group * t, _headDim);   // [B, KV, G·T, D]
        var scores = grouped.matmul(k.transpose(2, 3)).view(b, _kvHeads, group, t, s);             // [B, KV, G, T, S]
        var blocked = mask is null
            ? ones(t, s, ScalarType.Bool, q.device).triu(1)                                          // [T, S]: key after query
            : mask.logical_not().unsqueeze(2);                                                       // [B, 1, 1, T, S]
        var probabilities = scores.masked_fill(blocked, double.NegativeInfinity).softmax(-1, ScalarType.Float32).to_type(q.dtype);
        if (dropout > 0) probabilities = nn.functional.dropout(probabilities, dropout, training);
        var attended = probabilities.view(b, _kvHeads, group * t, s).matmul(v);                     // [B, KV, G·T, D]
        return attended.view(b, _heads, t, _headDim).MoveToOuterDisposeScope();
    }
}
