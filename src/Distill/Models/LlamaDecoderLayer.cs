using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>Pre-norm block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class LlamaDecoderLayer : nn.Module<Tensor, AttentionContext, Tensor>
{
    /// <summary>HF names of the four sub-blocks.</summary>
    private readonly LlamaAttention self_attn;

    /// <summary>The gated MLP.</summary>
    private readonly LlamaMLP mlp;

    /// <summary>Norm before attention.</summary>
    private readonly LlamaRMSNorm input_layernorm;

    /// <summary>Norm before the MLP.</summary>
    private readonly LlamaRMSNorm post_attention_layernorm;

    /// <summary>Creates block <paramref name="layerIndex"/> for <paramref name="config"/>.</summary>
    public LlamaDecoderLayer(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32, int layerIndex = 0)
        : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(config, device, dtype, layerIndex);
        mlp = new LlamaMLP(config, device, dtype);
        input_layernorm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        post_attention_layernorm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    /// <summary>[B, T, hidden] → [B, T, hidden].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var h = hidden + self_attn.forward(input_layernorm.forward(hidden), context);
        var output = h + mlp.forward(post_attention_layernorm.forward(h));
        return output.MoveToOuterDisposeScope();
    }
}
