namespace Distill.Generation;

/// <summary>One prompt's continuation.</summary>
/// <param name="Tokens">The new token ids, without the prompt and without the stop id that ended them.</param>
/// <param name="StopId">The stop id (end of sequence or of turn) that ended the continuation, not emitted in
/// <paramref name="Tokens"/>; null when the token limit did.</param>
public sealed record GenerationResult(int[] Tokens, int? StopId)
{
    /// <summary>True when a stop id ended the continuation, false when the token limit did.</summary>
    public bool StoppedAtEos => StopId is not null;
}
