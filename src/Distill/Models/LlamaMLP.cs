using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>Gated MLP: down_proj(silu(gate_proj(x)) · up_proj(x)); biases when <c>mlp_bias</c>.</summary>
public sealed class LlamaMLP : nn.Module<Tensor, Tensor>
{
    /// <summary>HF names: gate_proj/up_proj [intermediate, hidden], down_proj [hidden, intermediate].</summary>
    private readonly Linear gate_proj, up_proj, down_proj;

    /// <summary>Creates the projections for <paramref name="config"/>.</summary>
    public LlamaMLP(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlamaMLP))
    {
        var bias = config.MlpProjectionBias;
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, bias, device, dtype);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, bias, device, dtype);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, bias, device, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.forward(input)) * up_proj.forward(input);
        return down_proj.forward(gated).MoveToOuterDisposeScope();
    }
}
