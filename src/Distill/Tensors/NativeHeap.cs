using System.Runtime.InteropServices;

namespace Distill.Tensors;

/// <summary>
/// Makes the C heap keep freed memory for reuse instead of returning every large block to the kernel, which is what
/// libtorch's CPU tensors need to run at the machine's speed on Linux.
/// </summary>
/// <remarks>
/// libtorch takes every CPU tensor from malloc. glibc serves a block above its mmap threshold (at most 32 MB) with a
/// fresh mmap and unmaps it on free, so the activations and logits of every step are page-faulted in again, zeroed by
/// the kernel, each time. On these machines that made a bf16 [1024 × 512]·[512 × 32000] projection 3.4× slower and the
/// teacher's top-K pass 7× slower than with the memory kept (bench "allocator" measures it). PyTorch users get the same
/// from jemalloc or tcmalloc; here glibc is told not to use mmap and not to trim below 2 GB of free top-of-heap. The price
/// is fragmentation: a freed block is reused only by a request that fits its hole, and nothing goes back to the kernel,
/// so a step's peak resident size grows (bench train_memory at vocab 128256, chunked loss: 12–27% above glibc's own
/// heap in fp32, 33–38% in bf16, over two runs; earlier builds 6–100%: it depends on what the process allocated before
/// and so where the blocks land; docs/PERFORMANCE.md, "Memory").
/// Code on the hot path keeps it low by making large blocks of one size (<c>ChunkedLoss</c>). Raising glibc's mmap
/// threshold to its 32 MB maximum instead kept the memory but none of the speed, since the big blocks are the slow ones.
/// Memory freed after the peak stays with the process for the next step. The main
/// thread's heap grows without bound; another thread's arena grows in 64 MB heaps, so there a larger block is still
/// mapped afresh (the <c>distill</c> command computes on its main thread). Call it once at start-up; the command does.
/// </remarks>
public static partial class NativeHeap
{
    private const int TrimThreshold = -1, MmapMax = -4; // glibc's M_TRIM_THRESHOLD and M_MMAP_MAX

    /// <summary>
    /// Applies the setting on Linux with glibc; returns false (and changes nothing) elsewhere, or when the environment
    /// variable <c>DISTILL_NATIVE_HEAP=default</c> asks for the C library's own behaviour.
    /// </summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (string.Equals(Environment.GetEnvironmentVariable("DISTILL_NATIVE_HEAP"), "default", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            // mallopt returns 1 on success; musl's stub returns 0.
            return mallopt(MmapMax, 0) == 1 && mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
