using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>Small random problems as both double arrays (for <see cref="NaiveKd"/>) and tensors.</summary>
internal static class LossTestData
{
    public static double[][] RandomRows(int seed, int rows, int cols, double spread = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows)
            .Select(_ => Enumerable.Range(0, cols).Select(_ => (rng.NextDouble() * 2 - 1) * spread).ToArray())
            .ToArray();
    }

    public static Tensor ToTensor(double[][] rows, ScalarType dtype = ScalarType.Float32, bool requiresGrad = false)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        var t = tensor(flat, new long[] { rows.Length, rows[0].Length }).to_type(dtype);
        return requiresGrad ? t.requires_grad_(true) : t;
    }

    public static Tensor ToTensor(long[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });

    /// <summary>The teacher's top-K per row: ids by descending logit and logits minus the row max, like the cache.</summary>
    public static (long[][] Ids, double[][] Logits, double[] Lse) TopK(double[][] teacher, int k)
    {
        var ids = teacher.Select(r => Enumerable.Range(0, r.Length).OrderByDescending(i => r[i]).Take(k).Select(i => (long)i).ToArray()).ToArray();
        var logits = teacher.Select((r, n) => ids[n].Select(i => r[i] - r.Max()).ToArray()).ToArray();
        var lse = teacher.Select(NaiveKd.LogSumExpShifted).ToArray();
        return (ids, logits, lse);
    }

    public static double[] ToDoubles(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();

    public static void AssertClose(double expected, double actual, double tolerance, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: expected {expected}, got {actual} (tolerance {tolerance})");
    }

    public static void AssertAllClose(double[] expected, double[] actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) AssertClose(expected[i], actual[i], tolerance, $"{what}[{i}]");
    }

    /// <summary>Central finite difference of a scalar function of a float64 tensor, entry by entry.</summary>
    public static double[] FiniteDifference(Tensor x, Func<Tensor, double> f, double h = 1e-6)
    {
        var values = ToDoubles(x);
        var grad = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var plus = (double[])values.Clone();
            var minus = (double[])values.Clone();
            plus[i] += h;
            minus[i] -= h;
            using var scope = NewDisposeScope();
            grad[i] = (f(tensor(plus, x.shape)) - f(tensor(minus, x.shape))) / (2 * h);
        }
        return grad;
    }
}
