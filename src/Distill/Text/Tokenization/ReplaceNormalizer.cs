namespace Distill.Text.Tokenization;

/// <summary>
/// Replaces every match of a pattern with fixed content; the replacement takes the original span of
/// what it replaced. A one-character-for-one-character literal keeps the alignment untouched.
/// </summary>
internal sealed class ReplaceNormalizer(ISplitPattern pattern, string? literal, string content) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        if (literal is { Length: 1 } && content.Length == 1)
            return text.WithSameAlignment(text.Text.Replace(literal[0], content[0]));
        var matches = new List<(int Start, int End)>();
        pattern.FindMatches(text.Text, matches);
        if (matches.Count == 0)
            return text;
        var builder = new NormalizedTextBuilder(text.Length + matches.Count * content.Length);
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            builder.AppendFrom(text, previous, start);
            var (originalStart, originalEnd) = text.OriginalSpan(start, end);
            builder.Append(content, originalStart, originalEnd);
            previous = end;
        }
        builder.AppendFrom(text, previous, text.Length);
        return builder.Build();
    }
}
