using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>The machine's dense matmul throughput, the yardstick every other figure is a fraction of.</summary>
internal static class MatmulPeak
{
    /// <summary>FLOP/s of an n×n by n×n matmul in the given dtype (2·n³ FLOPs per product).</summary>
    public static double Measure(ScalarType dtype, int n = 2048, int runs = 5)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to(dtype);
        var b = randn(n, n).to(dtype);
        double seconds = Stopwatches.MedianSeconds(() =>
        {
            using var inner = NewDisposeScope();
            a.matmul(b);
        }, warmup: 2, runs: runs);
        return 2.0 * n * n * n / seconds;
    }
}
