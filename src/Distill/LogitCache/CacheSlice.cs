using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>
/// Slice <see cref="Index"/> of <see cref="Count"/> (<c>--shard I/N</c>): a contiguous run of whole shard-grid
/// cells, so that shard files written by slices are the same files a single run writes.
/// </summary>
/// <param name="Index">0-based slice index I.</param>
/// <param name="Count">Number of slices N.</param>
public sealed record CacheSlice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("count")] int Count)
{
    /// <summary>The whole cache as one slice.</summary>
    public static CacheSlice Whole { get; } = new(0, 1);

    /// <summary>Parses "I/N" as written on the command line.</summary>
    public static CacheSlice Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var i) || !int.TryParse(parts[1], out var n) || n < 1 || i < 0 || i >= n)
            throw new ArgumentException($"slice '{text}' is not I/N with 0 ≤ I < N");
        return new CacheSlice(i, n);
    }

    /// <summary>
    /// The example range [first, end) of this slice: the grid of cells of <paramref name="examplesPerShard"/>
    /// examples is divided as evenly as possible, slice I taking cells [⌊I·C/N⌋, ⌊(I+1)·C/N⌋).
    /// </summary>
    public (long First, long End) Range(long exampleCount, int examplesPerShard)
    {
        if (Count < 1 || Index < 0 || Index >= Count) throw new ArgumentException($"slice {Index}/{Count} is out of range");
        var cells = (exampleCount + examplesPerShard - 1) / examplesPerShard;
        var firstCell = cells * Index / Count;
        var endCell = cells * (Index + 1) / Count;
        return (Math.Min(exampleCount, firstCell * examplesPerShard), Math.Min(exampleCount, endCell * examplesPerShard));
    }
}
