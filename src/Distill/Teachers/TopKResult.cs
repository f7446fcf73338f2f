using Distill.LogitCache;
using Distill.Text.Conversations;

namespace Distill.Teachers;

/// <summary>The outcome of <see cref="TopKRunner.Run"/>.</summary>
/// <param name="Manifest">manifest.json when the cache is whole (a whole run, or the slice that completed the merge); else the slice's part manifest.</param>
/// <param name="Whole">True when manifest.json now describes the complete cache.</param>
/// <param name="ExamplesComputed">Examples the teacher ran on in this run.</param>
/// <param name="ExamplesResumed">Examples of the slice found complete from an earlier run.</param>
/// <param name="Skipped">Unusable lines left out (only with skip-bad).</param>
/// <param name="MergeNote">Why a finished slice did not merge the cache (other slices missing or still running), else null.</param>
/// <param name="ExamplesTruncated">Examples (of the whole data) cut to <paramref name="MaxSeqLen"/> tokens.</param>
/// <param name="MaxSeqLen">The length limit applied: the given one or the teacher's max_position_embeddings.</param>
public sealed record TopKResult(
    CacheManifest Manifest,
    bool Whole,
    long ExamplesComputed,
    long ExamplesResumed,
    IReadOnlyList<BadLine> Skipped,
    string? MergeNote,
    int ExamplesTruncated = 0,
    int? MaxSeqLen = null);
