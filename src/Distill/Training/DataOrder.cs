namespace Distill.Training;

/// <summary>
/// The order examples are visited in: position p of the run (0, 1, 2, … across epochs) maps to example
/// perm_e[p mod n] with e = p div n and perm_e a Fisher–Yates shuffle seeded from (seed, e). A pure function of
/// (seed, n, p), so the data position of a checkpoint is just p, and the same seed gives the same order everywhere
/// (SplitMix64, not System.Random, whose sequence is not promised across .NET versions).
/// </summary>
public sealed class DataOrder
{
    private readonly long _count;
    private readonly long _seed;
    private long _epoch = -1;
    private long[] _permutation = [];

    /// <summary>An order over <paramref name="count"/> ≥ 1 examples.</summary>
    public DataOrder(long count, long seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "there must be at least one example");
        _count = count;
        _seed = seed;
    }

    /// <summary>The example visited at run position <paramref name="position"/> ≥ 0.</summary>
    public long At(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        var epoch = position / _count;
        if (epoch != _epoch)
        {
            _permutation = Permutation(_count, _seed, epoch);
            _epoch = epoch;
        }
        return _permutation[position % _count];
    }

    /// <summary>Positions [<paramref name="start"/>, start + <paramref name="length"/>).</summary>
    public long[] Range(long start, int length)
    {
        var indices = new long[length];
        for (var i = 0; i < length; i++) indices[i] = At(start + i);
        return indices;
    }

    private static long[] Permutation(long count, long seed, long epoch)
    {
        var permutation = new long[count];
        for (var i = 0L; i < count; i++) permutation[i] = i;
        var state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch);
        for (var i = count - 1; i > 0; i--)
        {
            var j = (long)(SplitMix64.Next(ref state) % (ulong)(i + 1));
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }
        return permutation;
    }
}
