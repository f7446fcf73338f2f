namespace Distill.LogitCache;

/// <summary>Where shard boundaries fall. Both limits depend only on the data, never on timing, so reruns are byte-identical.</summary>
/// <param name="ExamplesPerShard">
/// Shards never cross a multiple of this global example index (the shard grid); slices are whole grid cells.
/// </param>
/// <param name="MaxShardBytes">
/// A grid cell is split earlier when the next example would take the shard's data past this many bytes (a shard always
/// holds at least one example). Splits restart at each grid line, so sliced runs still match a single run.
/// </param>
public sealed record LogitCacheWriterOptions(int ExamplesPerShard = 1024, long MaxShardBytes = 1L << 30)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        if (ExamplesPerShard < 1) throw new ArgumentException($"examples_per_shard must be ≥ 1, got {ExamplesPerShard}");
        // Each tensor must stay under 2 GiB so the reader can view it as one span.
        if (MaxShardBytes < 1 || MaxShardBytes > int.MaxValue)
            throw new ArgumentException($"max_shard_bytes must be in [1, {int.MaxValue}], got {MaxShardBytes}");
    }
}
