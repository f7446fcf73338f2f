using System.Runtime.InteropServices;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public class TensorBytesTests
{
    // Real models cross the 1 GiB slice size; tiny slices here walk the same multi-slice path.
    [Theory]
    [InlineData(ScalarType.Float32, 12)]
    [InlineData(ScalarType.Float32, 7)]
    [InlineData(ScalarType.Int64, 40)]
    [InlineData(ScalarType.BFloat16, 1)]
    public void CopyInto_And_WriteTo_Should_Move_Every_Byte_Across_Slices(ScalarType dtype, long chunkBytes)
    {
        using var scope = NewDisposeScope();
        var destination = empty([3, 5, 7], dtype);
        var source = new byte[destination.NumberOfElements * destination.ElementSize];
        new Random(7).NextBytes(source);

        var pin = GCHandle.Alloc(source, GCHandleType.Pinned);
        try
        {
            TensorBytes.CopyInto(destination, pin.AddrOfPinnedObject(), source.Length, chunkBytes);
        }
        finally
        {
            pin.Free();
        }
        using var written = new MemoryStream();
        TensorBytes.WriteTo(destination, written, chunkBytes);

        Assert.Equal(source, destination.bytes.ToArray());
        Assert.Equal(source, written.ToArray());
    }
}
