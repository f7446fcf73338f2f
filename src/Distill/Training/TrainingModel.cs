using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The student as trained: fp32 master weights (what the optimizer steps, what checkpoints hold) and the model
/// the forward and backward passes run in. For fp32 both are the same model; for bf16 the compute model is a bf16
/// copy, its gradients are widened into the masters' <c>.grad</c> before the optimizer step, and the updated
/// masters are rounded back into it afterwards (TorchSharp has no autocast).
/// </summary>
public sealed class TrainingModel : IDisposable
{
    private readonly (Tensor Compute, Tensor Master)[] _pairs;

    /// <summary>Wraps <paramref name="master"/> (fp32, owned from now on) for compute in <paramref name="computeDType"/>.</summary>
    public TrainingModel(LlamaForCausalLM master, ScalarType computeDType)
    {
        if (master.DType != ScalarType.Float32)
            throw new ArgumentException($"master weights must be float32, got {master.DType}", nameof(master));
        Master = master;
        Compute = computeDType == ScalarType.Float32 ? master : new LlamaForCausalLM(master.Config, master.Device, computeDType);
        _pairs = Compute.parameters().Zip(master.parameters(), (c, m) => ((Tensor)c, (Tensor)m)).ToArray();
        if (IsMixed) CopyMastersToCompute();
    }

    /// <summary>The fp32 master weights.</summary>
    public LlamaForCausalLM Master { get; }

    /// <summary>The model forward and backward run in (the master itself for fp32).</summary>
    public LlamaForCausalLM Compute { get; }

    /// <summary>True when the compute model is a lower-precision copy of the masters.</summary>
    public bool IsMixed => !ReferenceEquals(Master, Compute);

    /// <summary>Clears the compute model's gradients (and the masters', which are the same tensors for fp32).</summary>
    public void ZeroGrad()
    {
        Compute.zero_grad();
        if (IsMixed) Master.zero_grad();
    }

    /// <summary>Sets each master's gradient to its compute twin's, widened to fp32 (no-op for fp32).</summary>
    public void CopyGradsToMasters()
    {
        if (!IsMixed) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (compute, master) in _pairs)
        {
            var grad = compute.grad;
            if (grad is null) continue;
            if (master.grad is { } existing) existing.copy_(grad);
            else master.grad = grad.to_type(ScalarType.Float32);   // the parameter keeps its own reference
        }
    }

    /// <summary>Rounds the masters into the compute model (no-op for fp32).</summary>
    public void CopyMastersToCompute()
    {
        if (!IsMixed) return;
        using var noGrad = no_grad();
        foreach (var (compute, master) in _pairs) compute.copy_(master);
    }

    /// <summary>Disposes both models.</summary>
    public void Dispose()
    {
        if (IsMixed) Compute.Dispose();
        Master.Dispose();
    }
}
