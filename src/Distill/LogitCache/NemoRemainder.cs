namespace Distill.LogitCache;

/// <summary>
/// What <see cref="NemoJsonl.Export"/> does when the example count is not a multiple of the chunk count, since
/// NeMo-Aligner's <c>chunked_jsonl</c> loader expects every chunk to hold exactly <c>n_examples_per_chunk</c> lines.
/// </summary>
public enum NemoRemainder
{
    /// <summary>
    /// ⌈E/C⌉ lines per chunk; the missing lines at the end of the last chunk(s) repeat examples 0, 1, … (with their own
    /// <c>index</c>, so an import drops them again). Nothing is lost; a few examples are seen twice per epoch.
    /// </summary>
    Repeat,

    /// <summary>⌊E/C⌋ lines per chunk; the last E mod C examples are left out.</summary>
    Drop,
}
