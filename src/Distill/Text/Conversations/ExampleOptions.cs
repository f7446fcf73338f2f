namespace Distill.Text.Conversations;

/// <summary>How conversations become <see cref="TokenizedExample"/>s.</summary>
/// <param name="Supervise">Which assistant turns are targets.</param>
/// <param name="MaxSeqLen">Keep at most this many tokens (the end is cut off); null keeps everything.</param>
/// <param name="EndOfTurnMarkers">
/// Texts that end an assistant turn (e.g. "&lt;|eot_id|&gt;", "&lt;|im_end|&gt;", "&lt;/s&gt;"): the model must learn
/// to emit them, so they are supervised, while whitespace a template writes after them belongs to the
/// layout between turns and is not.
/// </param>
/// <param name="MaxMessages">
/// Longest accepted conversation, in messages. Finding the turns renders two prefixes per assistant
/// turn, so the cost grows with the square of the length; this keeps a hostile line from stalling a run.
/// </param>
public sealed record ExampleOptions(
    Supervise Supervise = Supervise.All,
    int? MaxSeqLen = null,
    IReadOnlyList<string>? EndOfTurnMarkers = null,
    int MaxMessages = 1024)
{
    /// <summary>The defaults: every assistant turn, no length limit, no end markers.</summary>
    public static ExampleOptions Default { get; } = new();

    /// <summary>The end markers, never null.</summary>
    public IReadOnlyList<string> Markers => EndOfTurnMarkers ?? [];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Supervise))
            throw new ArgumentException($"Supervise: unknown value {(int)Supervise}", nameof(Supervise));
        if (MaxSeqLen is < 2)
            throw new ArgumentException($"MaxSeqLen: must be at least 2 (one context token and one target), got {MaxSeqLen}", nameof(MaxSeqLen));
        if (MaxMessages < 1)
            throw new ArgumentException($"MaxMessages: must be positive, got {MaxMessages}", nameof(MaxMessages));
        if (Markers.Any(string.IsNullOrEmpty))
            throw new ArgumentException("EndOfTurnMarkers: markers must be non-empty strings", nameof(EndOfTurnMarkers));
    }
}

/// <summary>Which assistant turns of a conversation are training targets.</summary>
public enum Supervise
{
    /// <summary>Every assistant turn (the usual SFT setting).</summary>
    All,

    /// <summary>Only the final assistant turn; earlier ones are context, like the user's turns.</summary>
    Last,
}

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
