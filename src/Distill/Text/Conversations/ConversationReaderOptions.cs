namespace Distill.Text.Conversations;

/// <summary>How <see cref="ConversationReader"/> reads a JSONL file.</summary>
/// <param name="Format">The line layout, or <see cref="ConversationFormat.Auto"/> to detect it per line.</param>
/// <param name="SkipBad">Skip unusable lines and record them in <see cref="ConversationReader.Skipped"/> instead of throwing.</param>
/// <param name="MaxLineBytes">Longest accepted line, in bytes of UTF-8; longer lines are bad lines, so a corrupt file cannot make the reader allocate gigabytes.</param>
public sealed record ConversationReaderOptions(
    ConversationFormat Format = ConversationFormat.Auto,
    bool SkipBad = false,
    int MaxLineBytes = 16 * 1024 * 1024)
{
    /// <summary>The defaults: auto-detected format, bad lines are errors.</summary>
    public static ConversationReaderOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Format))
            throw new ArgumentException($"Format: unknown conversation format {(int)Format}", nameof(Format));
        if (MaxLineBytes < 1)
            throw new ArgumentException($"MaxLineBytes: must be positive, got {MaxLineBytes}", nameof(MaxLineBytes));
    }
}
