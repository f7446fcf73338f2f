using TorchSharp;

namespace Distill.LogitCache;

/// <summary>The teacher compute dtypes a manifest's <c>compute_dtype</c> names: "fp32" and "bf16", as <c>--dtype</c> spells them.</summary>
public static class ComputeDTypes
{
    /// <summary>Full precision.</summary>
    public const string Fp32 = "fp32";

    /// <summary>bfloat16 weights and activations; the final logits are still taken to fp32.</summary>
    public const string Bf16 = "bf16";

    /// <summary>The manifest name of a compute dtype.</summary>
    /// <exception cref="ArgumentException">Neither float32 nor bfloat16.</exception>
    public static string Name(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => Fp32,
        torch.ScalarType.BFloat16 => Bf16,
        _ => throw new ArgumentException($"compute dtype must be fp32 or bf16, got {dtype}", nameof(dtype)),
    };

    /// <summary>True for "fp32" and "bf16".</summary>
    public static bool IsKnown(string name) => name is Fp32 or Bf16;
}
