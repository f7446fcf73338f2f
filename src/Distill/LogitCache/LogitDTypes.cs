using System.Buffers.Binary;
using Distill.Tensors;

namespace Distill.LogitCache;

/// <summary>The dtypes the cache stores teacher logits in, by their manifest names "f32", "bf16", "f16".</summary>
public static class LogitDTypes
{
    /// <summary>The safetensors dtype for a manifest name, or null when the name is not "f32", "bf16" or "f16".</summary>
    public static SafetensorsDType? TryParse(string? name) => name switch
    {
        "f32" => SafetensorsDType.F32,
        "bf16" => SafetensorsDType.BF16,
        "f16" => SafetensorsDType.F16,
        _ => null,
    };

    /// <summary>The safetensors dtype for a manifest name; <see cref="ArgumentException"/> otherwise.</summary>
    public static SafetensorsDType Parse(string name) =>
        TryParse(name) ?? throw new ArgumentException($"unknown logit dtype '{name}' (expected f32, bf16 or f16)");

    /// <summary>Bytes per stored logit.</summary>
    public static int ElementSize(SafetensorsDType dtype) => dtype == SafetensorsDType.F32 ? 4 : 2;

    /// <summary>Widens stored little-endian logits to fp32 (exact for all three dtypes).</summary>
    public static void Decode(SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                for (var i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                break;
            case SafetensorsDType.BF16:
                for (var i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                break;
            case SafetensorsDType.F16:
                for (var i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                break;
            default:
                throw new NotSupportedException($"logit dtype {dtype} is not supported (expected F32, BF16 or F16)");
        }
    }
}
