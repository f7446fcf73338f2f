using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>The machine's memory bandwidth, the yardstick of memory-bound work such as decoding one token at a time.</summary>
internal static class MemoryBandwidth
{
    /// <summary>
    /// Bytes/s moved by copying a <paramref name="megabytes"/> MiB fp32 tensor into another (read + write counted, as
    /// STREAM's copy does), with torch's threads: far larger than any cache, so it is DRAM's speed.
    /// </summary>
    public static double Measure(int megabytes = 512, int runs = 5)
    {
        using var scope = NewDisposeScope();
        long elements = megabytes * (1L << 20) / sizeof(float);
        var source = rand(elements);
        var target = empty(elements);
        target.copy_(source); // touch every page before timing
        double seconds = Stopwatches.MedianSeconds(() => target.copy_(source), warmup: 1, runs: runs);
        return 2.0 * elements * sizeof(float) / seconds;
    }
}
