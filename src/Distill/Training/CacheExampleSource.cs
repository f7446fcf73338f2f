using Distill.LogitCache;

namespace Distill.Training;

/// <summary>Examples and teacher rows from a logit cache folder, narrowed to the first <c>top_k</c> columns.</summary>
public sealed class CacheExampleSource : IExampleSource
{
    private readonly LogitCacheReader _reader;

    /// <summary>
    /// Opens <paramref name="directory"/>; <paramref name="topK"/> null uses the cache's K. <paramref name="verifyChecksums"/>
    /// compares every shard's SHA-256 with the manifest's before it is mapped (<see cref="LogitCacheReader.Open"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">The cache is invalid or corrupt, or <paramref name="topK"/> exceeds its K.</exception>
    public CacheExampleSource(string directory, int? topK, bool verifyChecksums = true)
    {
        _reader = LogitCacheReader.Open(directory, verifyChecksums);
        if (topK > _reader.TopK)
        {
            _reader.Dispose();
            throw new InvalidDataException($"train config: data.top_k = {topK} exceeds the K = {_reader.TopK} stored in {directory}");
        }
        TopK = topK ?? _reader.TopK;
    }

    /// <summary>Columns used per teacher row.</summary>
    public int TopK { get; }

    /// <summary>The cache's manifest (teacher vocabulary, tokenizer fingerprint, source data).</summary>
    public CacheManifest Manifest => _reader.Manifest;

    /// <inheritdoc />
    public string Name => _reader.Directory;

    /// <inheritdoc />
    public long Count => _reader.ExampleCount;

    /// <inheritdoc />
    public TrainingExample Example(long index)
    {
        var view = _reader.Example(index, TopK);
        return new TrainingExample(view.InputIds.ToArray(), view.LossMask.ToArray());
    }

    /// <summary>
    /// The teacher rows of <paramref name="indices"/>' targets, concatenated in that order; within an example, one row per
    /// target position j (ascending), as <see cref="TrainingExample.SupervisedCount"/> counts them.
    /// </summary>
    public TopKBatch LoadTeacher(IReadOnlyList<long> indices) => _reader.LoadTopK(indices, TopK);

    /// <summary>The largest token id in any example's input_ids, and the smallest (to catch negative ids).</summary>
    public (int Min, int Max) InputIdRange()
    {
        var (min, max) = (int.MaxValue, int.MinValue);
        for (long i = 0; i < Count; i++)
            foreach (var id in _reader.Example(i, TopK).InputIds)
                (min, max) = (Math.Min(min, id), Math.Max(max, id));
        return (min, max);
    }

    /// <summary>The largest teacher id in the used top-K columns of any row.</summary>
    public int MaxTeacherId()
    {
        var max = -1;
        for (long i = 0; i < Count; i++)
        {
            var view = _reader.Example(i, TopK);
            for (var r = 0; r < view.Rows; r++)
                foreach (var id in view.RowIds(r)) max = Math.Max(max, id);
        }
        return max;
    }

    /// <summary>Unmaps the cache.</summary>
    public void Dispose() => _reader.Dispose();
}
