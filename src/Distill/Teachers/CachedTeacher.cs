using Distill.Losses;
using Distill.Training;

namespace Distill.Teachers;

/// <summary>The offline teacher: the top-K rows a logit cache holds for its own examples (the cache is not owned).</summary>
public sealed class CachedTeacher(CacheExampleSource cache) : ITeacher
{
    /// <summary>The cache the rows come from.</summary>
    public CacheExampleSource Cache => cache;

    /// <inheritdoc />
    public string Name => cache.Name;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">
    /// The batch holds examples that are not the cache's (sampled completions), or an example's rows do not match its targets.
    /// </exception>
    public TeacherSignal Signal(MicroBatch batch)
    {
        var indices = batch.Indices
            ?? throw new InvalidDataException($"{cache.Name}: a logit cache only knows its own examples, not completions made during training; use a live teacher (--teacher)");
        var rows = cache.LoadTeacher(indices);
        for (var i = 0; i < indices.Length; i++)
            if (rows.RowCounts[i] != batch.RowCounts[i])
                throw new InvalidDataException($"{cache.Name}: example {indices[i]} has {batch.RowCounts[i]} supervised targets but {rows.RowCounts[i]} teacher rows");
        var device = batch.Labels.device;
        return TeacherSignal.TopK(rows.Ids.to(device), rows.Logits.to(device), rows.LogSumExp.to(device));
    }

    /// <summary>Nothing owned.</summary>
    public void Dispose()
    {
    }
}
