using TorchSharp;

namespace Distill.Tensors;

/// <summary>Maps safetensors element types to TorchSharp's and back.</summary>
public static class DTypes
{
    /// <summary>The TorchSharp type that holds <paramref name="d"/> bit for bit.</summary>
    /// <exception cref="NotSupportedException">U16, U32 and U64, which TorchSharp 0.107 has no tensor type for.</exception>
    public static torch.ScalarType ToTorch(SafetensorsDType d) => d switch
    {
        SafetensorsDType.BOOL => torch.ScalarType.Bool,
        SafetensorsDType.U8 => torch.ScalarType.Byte,
        SafetensorsDType.I8 => torch.ScalarType.Int8,
        SafetensorsDType.I16 => torch.ScalarType.Int16,
        SafetensorsDType.F16 => torch.ScalarType.Float16,
        SafetensorsDType.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDType.I32 => torch.ScalarType.Int32,
        SafetensorsDType.F32 => torch.ScalarType.Float32,
        SafetensorsDType.F64 => torch.ScalarType.Float64,
        SafetensorsDType.I64 => torch.ScalarType.Int64,
        _ => throw new NotSupportedException($"safetensors dtype {d} has no TorchSharp tensor type"),
    };

    /// <summary>The safetensors name for a TorchSharp element type.</summary>
    /// <exception cref="NotSupportedException">Complex and quantized types, which safetensors cannot store.</exception>
    public static SafetensorsDType FromTorch(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Bool => SafetensorsDType.BOOL,
        torch.ScalarType.Byte => SafetensorsDType.U8,
        torch.ScalarType.Int8 => SafetensorsDType.I8,
        torch.ScalarType.Int16 => SafetensorsDType.I16,
        torch.ScalarType.Float16 => SafetensorsDType.F16,
        torch.ScalarType.BFloat16 => SafetensorsDType.BF16,
        torch.ScalarType.Int32 => SafetensorsDType.I32,
        torch.ScalarType.Float32 => SafetensorsDType.F32,
        torch.ScalarType.Float64 => SafetensorsDType.F64,
        torch.ScalarType.Int64 => SafetensorsDType.I64,
        _ => throw new NotSupportedException($"TorchSharp dtype {t} cannot be stored in safetensors"),
    };

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(SafetensorsDType d) => d switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, "unknown safetensors dtype"),
    };

    private static readonly Dictionary<string, SafetensorsDType> ByName =
        Enum.GetValues<SafetensorsDType>().ToDictionary(d => d.ToString(), StringComparer.Ordinal);

    /// <summary>Parses the header spelling ("F32", "BF16", ...); exact and case-sensitive like Hugging Face's reader.</summary>
    internal static bool TryParse(string name, out SafetensorsDType dtype) => ByName.TryGetValue(name, out dtype);
}
