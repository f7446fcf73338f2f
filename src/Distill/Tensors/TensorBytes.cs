using TorchSharp;

namespace Distill.Tensors;

/// <summary>
/// Raw byte copies between contiguous CPU tensors and memory. TorchSharp exposes a tensor's storage only as a
/// Span (at most int.MaxValue bytes), so larger tensors are handled through 1-D slices of their storage.
/// </summary>
internal static class TensorBytes
{
    private const long ChunkBytes = 1L << 30;

    /// <summary>Fills <paramref name="destination"/> (contiguous, CPU) from <paramref name="source"/>, which must hold its exact byte size.</summary>
    /// <remarks>Only tests pass a smaller <c>chunkBytes</c>, to exercise the multi-slice path without gigabytes.</remarks>
    public static unsafe void CopyInto(torch.Tensor destination, IntPtr source, long byteLength, long chunkBytes = ChunkBytes)
    {
        if (byteLength != destination.NumberOfElements * destination.ElementSize)
            throw new ArgumentException($"{byteLength} source bytes for a tensor of {destination.NumberOfElements * destination.ElementSize} bytes", nameof(byteLength));
        ForEachChunk(destination, byteLength, chunkBytes, (chunk, offset, length) =>
            new ReadOnlySpan<byte>((byte*)source + offset, length).CopyTo(chunk.bytes));
    }

    /// <summary>Writes the storage bytes of <paramref name="tensor"/> (contiguous, CPU) to <paramref name="stream"/>.</summary>
    /// <remarks>Only tests pass a smaller <c>chunkBytes</c>.</remarks>
    public static void WriteTo(torch.Tensor tensor, Stream stream, long chunkBytes = ChunkBytes)
    {
        ForEachChunk(tensor, tensor.NumberOfElements * tensor.ElementSize, chunkBytes, (chunk, _, _) => stream.Write(chunk.bytes));
    }

    private static void ForEachChunk(torch.Tensor tensor, long byteLength, long chunkBytes, Action<torch.Tensor, long, int> action)
    {
        if (byteLength == 0) return;
        var elementSize = tensor.ElementSize;
        var chunkElements = Math.Max(1, chunkBytes / elementSize);
        using var flat = tensor.view(-1); // [numel], shares storage
        var count = flat.shape[0];
        for (long start = 0; start < count; start += chunkElements)
        {
            var n = Math.Min(chunkElements, count - start);
            using var chunk = flat.narrow(0, start, n);
            action(chunk, start * elementSize, checked((int)(n * elementSize)));
        }
    }
}
