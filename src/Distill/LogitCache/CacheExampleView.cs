using Distill.Tensors;

namespace Distill.LogitCache;

/// <summary>
/// One cached example read straight from the memory-mapped shard: no copy is made until a caller asks for one.
/// Valid only while its <see cref="LogitCacheReader"/> is open. Row r is the teacher's prediction for the r-th
/// supervised position (see <see cref="TargetPositions"/>). <see cref="Width"/> ≤ K columns are exposed per row.
/// </summary>
public readonly ref struct CacheExampleView
{
    private readonly ReadOnlySpan<int> _topKIds; // [R, K] row-major
    private readonly ReadOnlySpan<byte> _topKLogits; // [R, K] row-major, in LogitDType

    internal CacheExampleView(long index, ReadOnlySpan<int> inputIds, ReadOnlySpan<byte> lossMask, ReadOnlySpan<int> topKIds,
        ReadOnlySpan<byte> topKLogits, ReadOnlySpan<float> logSumExp, int storedK, int width, SafetensorsDType logitDType)
    {
        if (width < 1 || width > storedK) throw new ArgumentOutOfRangeException(nameof(width), $"k must be in [1, {storedK}], got {width}");
        Index = index;
        InputIds = inputIds;
        LossMask = lossMask;
        _topKIds = topKIds;
        _topKLogits = topKLogits;
        LogSumExp = logSumExp;
        StoredK = storedK;
        Width = width;
        LogitDType = logitDType;
    }

    /// <summary>Global example index.</summary>
    public long Index { get; }

    /// <summary>Token ids, [T].</summary>
    public ReadOnlySpan<int> InputIds { get; }

    /// <summary>1 where the token is a supervised target, [T].</summary>
    public ReadOnlySpan<byte> LossMask { get; }

    /// <summary>Log-sum-exp of the max-subtracted logits over the whole vocabulary, [R].</summary>
    public ReadOnlySpan<float> LogSumExp { get; }

    /// <summary>K as stored in the cache.</summary>
    public int StoredK { get; }

    /// <summary>Columns exposed per row (the first <see cref="Width"/> of the K, i.e. the most likely ones).</summary>
    public int Width { get; }

    /// <summary>Storage dtype of the logits.</summary>
    public SafetensorsDType LogitDType { get; }

    /// <summary>R, the number of supervised rows.</summary>
    public int Rows => LogSumExp.Length;

    /// <summary>The same example exposing only the first <paramref name="k"/> columns.</summary>
    public CacheExampleView Narrow(int k) =>
        new(Index, InputIds, LossMask, _topKIds, _topKLogits, LogSumExp, StoredK, k, LogitDType);

    /// <summary>Teacher token ids of row <paramref name="row"/>, [Width], descending by logit.</summary>
    public ReadOnlySpan<int> RowIds(int row) => _topKIds.Slice(row * StoredK, Width);

    /// <summary>Raw stored logits of row <paramref name="row"/>, [Width] elements of <see cref="LogitDType"/>.</summary>
    public ReadOnlySpan<byte> RowLogitBytes(int row)
    {
        var size = LogitDTypes.ElementSize(LogitDType);
        return _topKLogits.Slice(row * StoredK * size, Width * size);
    }

    /// <summary>Decodes the logits of row <paramref name="row"/> into <paramref name="destination"/> ([Width]) as fp32.</summary>
    public void RowLogits(int row, Span<float> destination) =>
        LogitDTypes.Decode(LogitDType, RowLogitBytes(row), destination[..Width]);

    /// <summary>The positions j whose rows this example holds (loss_mask[j] == 1, j ≥ 1), in row order.</summary>
    public int[] TargetPositions()
    {
        var positions = new int[Rows];
        var r = 0;
        for (var j = 1; j < LossMask.Length; j++)
            if (LossMask[j] == 1) positions[r++] = j;
        return positions;
    }

    /// <summary>Copies the example into managed arrays with the stored K (or <see cref="Width"/> columns when narrowed).</summary>
    public CacheExample ToExample()
    {
        var ids = new int[Rows * Width];
        var logits = new float[Rows * Width];
        for (var r = 0; r < Rows; r++)
        {
            RowIds(r).CopyTo(ids.AsSpan(r * Width));
            RowLogits(r, logits.AsSpan(r * Width, Width));
        }
        return new CacheExample(InputIds.ToArray(), LossMask.ToArray(), Width, ids, logits, LogSumExp.ToArray());
    }
}
