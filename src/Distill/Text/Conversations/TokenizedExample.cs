namespace Distill.Text.Conversations;

/// <summary>
/// One training example: token ids and a loss mask. <c>LossMask[j] == 1</c> means token j is a target,
/// predicted from tokens 0..j-1; it marks exactly the supervised assistant tokens and their end-of-turn
/// token(s). Token 0 is never a target (nothing precedes it).
/// </summary>
/// <param name="InputIds">Token ids, [T].</param>
/// <param name="LossMask">1 for supervised target tokens, else 0, [T].</param>
/// <param name="SourceFile">Where the conversation came from.</param>
/// <param name="Line">Its 1-based line number.</param>
/// <param name="Truncated">True when tokens were cut off at the maximum sequence length.</param>
public sealed record TokenizedExample(int[] InputIds, byte[] LossMask, string SourceFile, int Line, bool Truncated)
{
    /// <summary>How many tokens are targets.</summary>
    public int SupervisedCount => LossMask.Count(m => m != 0);
}
