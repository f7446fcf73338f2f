using System.Runtime.InteropServices;
using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public sealed partial class NativeHeapTests
{
    // glibc's struct mallinfo2: ten size_t counters; hblkhd is the bytes currently held in mmap'd blocks.
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [LibraryImport("libc")]
    private static partial MallInfo2 mallinfo2();

    [Fact]
    public void KeepFreedMemory_Should_Serve_A_Large_Tensor_From_The_Heap_Not_From_A_Fresh_Mapping()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(NativeHeap.KeepFreedMemory());
        // Above glibc's largest mmap threshold (32 MB), within the 64 MB heap a test thread's arena grows by.
        const long bytes = 48L << 20;
        var mappedBefore = mallinfo2().Hblkhd;
        using var big = zeros([bytes / 4], ScalarType.Float32);
        var mappedDuring = mallinfo2().Hblkhd;
        Assert.True(mappedDuring < mappedBefore + (nuint)bytes, $"mmap'd bytes grew from {mappedBefore} to {mappedDuring}");
    }

    [Fact]
    public void KeepFreedMemory_Should_Be_Idempotent()
    {
        Assert.Equal(NativeHeap.KeepFreedMemory(), NativeHeap.KeepFreedMemory());
    }
}
