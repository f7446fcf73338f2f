namespace Distill.Teachers;

/// <summary>Groups examples of similar length so that little compute goes to padding.</summary>
public static class LengthBatches
{
    /// <summary>
    /// Batches of example indices: examples sorted longest first (ties by index, so the plan depends only on the lengths),
    /// cut greedily so that each batch's padded size (count × longest) stays within <paramref name="batchTokens"/>. An
    /// example longer than the budget runs alone. Longest first makes the most memory-hungry batch run first.
    /// </summary>
    public static IReadOnlyList<int[]> Plan(IReadOnlyList<int> lengths, long batchTokens)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (batchTokens < 1) throw new ArgumentException($"batch tokens must be ≥ 1, got {batchTokens}", nameof(batchTokens));
        var order = Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i).ToArray();
        var batches = new List<int[]>();
        var current = new List<int>();
        long width = 0;
        foreach (var i in order)
        {
            if (current.Count > 0 && (current.Count + 1) * width > batchTokens)
            {
                batches.Add([.. current]);
                current.Clear();
            }
            if (current.Count == 0) width = lengths[i];
            current.Add(i);
        }
        if (current.Count > 0) batches.Add([.. current]);
        return batches;
    }
}
