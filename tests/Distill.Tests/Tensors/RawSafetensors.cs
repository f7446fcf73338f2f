using System.Buffers.Binary;
using System.Text;

namespace Distill.Tests.Tensors;

/// <summary>Builds safetensors bytes by hand, independently of the writer under test.</summary>
internal static class RawSafetensors
{
    /// <summary>8-byte little-endian header length, the header's UTF-8 bytes, then <paramref name="data"/>.</summary>
    public static byte[] Build(string headerJson, byte[] data) => Build(Encoding.UTF8.GetBytes(headerJson), data);

    public static byte[] Build(byte[] header, byte[] data) => Concat(LengthPrefix((ulong)header.Length), header, data);

    public static byte[] LengthPrefix(ulong n)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, n);
        return prefix;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] F32(params float[] values) => Encode(values, 4, (s, v) => BinaryPrimitives.WriteSingleLittleEndian(s, v));

    public static byte[] F64(params double[] values) => Encode(values, 8, (s, v) => BinaryPrimitives.WriteDoubleLittleEndian(s, v));

    public static byte[] I64(params long[] values) => Encode(values, 8, (s, v) => BinaryPrimitives.WriteInt64LittleEndian(s, v));

    public static byte[] I32(params int[] values) => Encode(values, 4, (s, v) => BinaryPrimitives.WriteInt32LittleEndian(s, v));

    public static byte[] U16(params ushort[] values) => Encode(values, 2, (s, v) => BinaryPrimitives.WriteUInt16LittleEndian(s, v));

    private delegate void Put<T>(Span<byte> destination, T value);

    private static byte[] Encode<T>(T[] values, int size, Put<T> put)
    {
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++) put(bytes.AsSpan(i * size, size), values[i]);
        return bytes;
    }
}
