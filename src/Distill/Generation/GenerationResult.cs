namespace Distill.Generation;

/// <summary>One greedy continuation.</summary>
/// <param name="Tokens">The new token ids, without the prompt and without the end-of-sequence id that stopped it.</param>
/// <param name="StoppedAtEos">True when an end-of-sequence id ended it, false when the token limit did.</param>
public sealed record GenerationResult(int[] Tokens, bool StoppedAtEos);
