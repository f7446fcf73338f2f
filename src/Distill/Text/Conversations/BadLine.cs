namespace Distill.Text.Conversations;

/// <summary>A line that was skipped because it could not be used, and why.</summary>
/// <param name="SourceFile">The file it came from.</param>
/// <param name="Line">Its 1-based line number.</param>
/// <param name="Reason">What was wrong, in a few words (no file or line prefix).</param>
public sealed record BadLine(string SourceFile, int Line, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{SourceFile}:{Line}: {Reason}";
}
