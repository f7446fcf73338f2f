using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Root-mean-square norm as Hugging Face computes it: statistics in fp32 whatever the model dtype,
/// the normalised value cast back to the input dtype, then scaled by <c>weight</c> in that dtype.
/// </summary>
public sealed class LlamaRMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;

    /// <summary>HF name: <c>weight</c>, shape [hidden], initialised to ones.</summary>
    private readonly Parameter weight;

    /// <summary>Creates the norm over the last dimension of width <paramref name="hidden"/>.</summary>
    public LlamaRMSNorm(long hidden, double eps, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlamaRMSNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(new[] { hidden }, dtype, device));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.to_type(ScalarType.Float32);
        var variance = x.pow(2).mean(new long[] { -1 }, keepdim: true);
        var normed = (x * (variance + _eps).rsqrt()).to_type(input.dtype);
        return (weight * normed).MoveToOuterDisposeScope();
    }
}
