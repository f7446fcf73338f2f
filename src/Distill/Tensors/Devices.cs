using TorchSharp;

namespace Distill.Tensors;

/// <summary>Parses the user-facing device and dtype names used by every command and config.</summary>
public static class Devices
{
    /// <summary>"cpu", "cuda" or "cuda:N"; CUDA needs the build with -p:TorchSharpBackend=cuda.</summary>
    public static torch.Device Parse(string name)
    {
        var lower = name.Trim().ToLowerInvariant();
        if (lower == "cpu") return torch.CPU;
        if (lower == "cuda" || lower.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new NotSupportedException($"device '{name}': CUDA is not available (build with -p:TorchSharpBackend=cuda on a machine with an NVIDIA GPU)");
            return new torch.Device(lower);
        }
        throw new ArgumentException($"unknown device '{name}' (expected cpu, cuda or cuda:N)");
    }

    /// <summary>Compute dtypes Distill trains and infers in: "fp32"/"float32" or "bf16"/"bfloat16".</summary>
    public static torch.ScalarType ParseComputeDType(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" => torch.ScalarType.Float32,
        "bf16" or "bfloat16" => torch.ScalarType.BFloat16,
        _ => throw new ArgumentException($"unknown compute dtype '{name}' (expected fp32 or bf16)"),
    };

    /// <summary>The short name of a compute dtype ("fp32", "bf16"), as <see cref="ParseComputeDType"/> reads it.</summary>
    public static string ComputeDTypeName(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => "fp32",
        torch.ScalarType.BFloat16 => "bf16",
        _ => throw new ArgumentException($"{dtype} is not a compute dtype (expected fp32 or bf16)"),
    };
}
