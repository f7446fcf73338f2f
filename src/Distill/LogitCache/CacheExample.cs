namespace Distill.LogitCache;

/// <summary>
/// One tokenized example with the teacher's top-K predictions for its supervised targets.
/// A target is a position j ≥ 1 with <c>LossMask[j] == 1</c>; its row holds the teacher's prediction of
/// token j from tokens 0..j-1 (the logits the teacher produced at position j-1). Rows follow the order
/// of their positions. Arrays are owned by the example and must not be mutated after construction.
/// </summary>
public sealed class CacheExample
{
    /// <summary>Validates the shapes and the row invariants; throws <see cref="ArgumentException"/> naming the field.</summary>
    /// <param name="inputIds">Token ids, length T ≥ 1.</param>
    /// <param name="lossMask">0/1 per token, length T; position 0 can never be a target, so <c>lossMask[0]</c> must be 0.</param>
    /// <param name="topK">K, the number of teacher entries per row.</param>
    /// <param name="topKIds">[R, K] row-major: teacher token ids, descending by logit.</param>
    /// <param name="topKLogits">[R, K] row-major: logits minus the row maximum, so column 0 is 0 and values never increase.</param>
    /// <param name="logSumExp">[R]: log Σ_v exp(logit_v − max) over the whole vocabulary (≥ 0).</param>
    public CacheExample(int[] inputIds, byte[] lossMask, int topK, int[] topKIds, float[] topKLogits, float[] logSumExp)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(lossMask);
        ArgumentNullException.ThrowIfNull(topKIds);
        ArgumentNullException.ThrowIfNull(topKLogits);
        ArgumentNullException.ThrowIfNull(logSumExp);
        if (inputIds.Length == 0) throw new ArgumentException("input_ids is empty", nameof(inputIds));
        if (lossMask.Length != inputIds.Length)
            throw new ArgumentException($"loss_mask has {lossMask.Length} entries but input_ids has {inputIds.Length}", nameof(lossMask));
        if (topK < 1) throw new ArgumentException($"top_k must be ≥ 1, got {topK}", nameof(topK));
        var error = CheckMask(lossMask, out var rows);
        if (error is not null) throw new ArgumentException(error, nameof(lossMask));
        if (logSumExp.Length != rows)
            throw new ArgumentException($"logsumexp has {logSumExp.Length} rows but loss_mask has {rows} supervised targets", nameof(logSumExp));
        if (topKIds.Length != (long)rows * topK)
            throw new ArgumentException($"topk_ids has {topKIds.Length} entries, expected {rows}×{topK}", nameof(topKIds));
        if (topKLogits.Length != (long)rows * topK)
            throw new ArgumentException($"topk_logits has {topKLogits.Length} entries, expected {rows}×{topK}", nameof(topKLogits));
        error = CheckRows(topK, topKIds, topKLogits, logSumExp);
        if (error is not null) throw new ArgumentException(error, nameof(topKLogits));
        InputIds = inputIds;
        LossMask = lossMask;
        TopK = topK;
        TopKIds = topKIds;
        TopKLogits = topKLogits;
        LogSumExp = logSumExp;
    }

    /// <summary>Token ids, [T].</summary>
    public int[] InputIds { get; }

    /// <summary>1 where the token is a supervised target, [T].</summary>
    public byte[] LossMask { get; }

    /// <summary>K, the number of teacher entries per row.</summary>
    public int TopK { get; }

    /// <summary>Teacher token ids, [R, K] row-major, descending by logit.</summary>
    public int[] TopKIds { get; }

    /// <summary>Max-subtracted teacher logits, [R, K] row-major.</summary>
    public float[] TopKLogits { get; }

    /// <summary>Log-sum-exp of the max-subtracted logits over the whole vocabulary, [R].</summary>
    public float[] LogSumExp { get; }

    /// <summary>R, the number of supervised targets (rows).</summary>
    public int Rows => LogSumExp.Length;

    /// <summary>The positions j whose rows this example holds, in row order.</summary>
    public IEnumerable<int> TargetPositions()
    {
        for (var j = 1; j < LossMask.Length; j++)
            if (LossMask[j] == 1) yield return j;
    }

    /// <summary>Checks that a mask is 0/1 with position 0 unsupervised; returns the reason or null, and the row count.</summary>
    internal static string? CheckMask(ReadOnlySpan<byte> lossMask, out int rows)
    {
        rows = 0;
        for (var j = 0; j < lossMask.Length; j++)
        {
            if (lossMask[j] > 1) return $"loss_mask[{j}] is {lossMask[j]} (expected 0 or 1)";
            rows += lossMask[j];
        }
        if (lossMask.Length > 0 && lossMask[0] != 0)
            return "loss_mask[0] is 1 but position 0 has no preceding token to predict it from";
        return null;
    }

    /// <summary>
    /// How far below 0 a stored log-sum-exp may fall. In exact arithmetic log Σ exp(logit − max) ≥ log 1 = 0; a teacher
    /// computing in bf16, or NeMo's exporter, can round a near-one-hot row to a hair below 0.
    /// </summary>
    internal const float LogSumExpTolerance = 1e-3f;

    /// <summary>Checks the per-row invariants of max-subtracted, descending top-K rows; messages number rows from <paramref name="firstRow"/>.</summary>
    internal static string? CheckRows(int topK, ReadOnlySpan<int> ids, ReadOnlySpan<float> logits, ReadOnlySpan<float> logSumExp, long firstRow = 0)
    {
        for (var i = 0; i < logSumExp.Length; i++)
        {
            var error = CheckRow(ids.Slice(i * topK, topK), logits.Slice(i * topK, topK), logSumExp[i], int.MaxValue);
            if (error is not null) return $"row {i + firstRow}: {error}";
        }
        return null;
    }

    /// <summary>
    /// The invariants of one row (column 0 is 0, logits finite and descending, ids in [0, <paramref name="vocabSize"/>),
    /// log-sum-exp finite and ≥ 0 within <see cref="LogSumExpTolerance"/>); the reason, or null. The one row check used
    /// by the writer, by <see cref="LogitCacheReader.Verify"/> and by every row <see cref="LogitCacheReader.LoadTopK"/> loads.
    /// </summary>
    internal static string? CheckRow(ReadOnlySpan<int> ids, ReadOnlySpan<float> logits, float logSumExp, int vocabSize)
    {
        if (logits[0] != 0f) return $"topk_logits[0] is {logits[0]} (expected 0: logits are max-subtracted)";
        for (var k = 0; k < logits.Length; k++)
        {
            if (!float.IsFinite(logits[k])) return $"topk_logits[{k}] is not finite";
            if (k > 0 && logits[k] > logits[k - 1]) return $"topk_logits are not descending at column {k}";
            if (ids[k] < 0) return $"topk_ids[{k}] is negative";
            if (ids[k] >= vocabSize) return $"topk_ids[{k}] = {ids[k]} is outside the teacher vocabulary of {vocabSize} (manifest teacher.vocab_size)";
        }
        if (!float.IsFinite(logSumExp) || logSumExp < -LogSumExpTolerance)
            return $"logsumexp is {logSumExp} (expected finite and ≥ 0)";
        return null;
    }
}
