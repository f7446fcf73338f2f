using System.Text;

namespace Distill.Text.Conversations;

/// <summary>A line that was skipped because it could not be used, and why.</summary>
/// <param name="SourceFile">The file it came from.</param>
/// <param name="Line">Its 1-based line number.</param>
/// <param name="Reason">What was wrong, in a few words (no file or line prefix).</param>
public sealed record BadLine(string SourceFile, int Line, string Reason)
{
    /// <summary>Longest reason shown: a reason can quote the bad line, and a bad line can be megabytes.</summary>
    public const int MaxReasonChars = 200;

    /// <summary>Bad lines listed in a <see cref="Summary"/>; the rest are counted.</summary>
    public const int MaxShown = 10;

    /// <inheritdoc />
    public override string ToString() =>
        $"{SourceFile}:{Line}: {(Reason.Length <= MaxReasonChars ? Reason : Reason[..MaxReasonChars] + "…")}";

    /// <summary>"skipped N bad line(s):" then the first <see cref="MaxShown"/> in line order, one per line, then a count of the rest.</summary>
    public static string Summary(IReadOnlyCollection<BadLine> lines)
    {
        var text = new StringBuilder($"skipped {lines.Count} bad line(s):");
        foreach (var line in lines.OrderBy(b => b.SourceFile, StringComparer.Ordinal).ThenBy(b => b.Line).Take(MaxShown)) text.Append($"\n  {line}");
        if (lines.Count > MaxShown) text.Append($"\n  ... and {lines.Count - MaxShown} more");
        return text.ToString();
    }
}
