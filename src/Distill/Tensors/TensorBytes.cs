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
    public static unsafe void CopyInto(torch.Tensor destination, byte* source, long byteLength)
    {
        ForEachChunk(destination, byteLength, (chunk, offset, length) =>
            new ReadOnlySpan<byte>(source + offset, length).CopyTo(chunk.bytes));
    }

    /// <summary>Writes the storage bytes of <paramref name="tensor"/> (contiguous, CPU) to <paramref name="stream"/>.</summary>
    public static void WriteTo(torch.Tensor tensor, Stream stream)
    {
        ForEachChunk(tensor, tensor.NumberOfElements * tensor.ElementSize, (chunk, _, _) => stream.Write(chunk.bytes));
    }

    private static void ForEachChunk(torch.Tensor tensor, long byteLength, Action<torch.Tensor, long, int> action)
    {
        if (byteLength == 0) return;
        var elementSize = tensor.ElementSize;
        var chunkElements = ChunkBytes / elementSize;
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
