using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>Finds the delimiters a split pre-tokenizer or replace normalizer acts on.</summary>
internal interface ISplitPattern
{
    /// <summary>Appends the non-empty, non-overlapping matches in <paramref name="text"/>, in order, as UTF-16 ranges.</summary>
    void FindMatches(string text, List<(int Start, int End)> matches);
}

/// <summary>
/// Matches every code point satisfying a predicate, one match per code point, as Rust's
/// character patterns do (Metaspace's split on '▁', the Digits pre-tokenizer).
/// </summary>
internal sealed class CharClassPattern(Func<Rune, bool> predicate) : ISplitPattern
{
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int width);
            if (predicate(rune))
                matches.Add((i, i + width));
            i += width;
        }
    }
}

/// <summary>A literal string pattern (Hugging Face's <c>{"String": ...}</c>), matched ordinally left to right.</summary>
internal sealed class LiteralPattern(string literal) : ISplitPattern
{
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (literal.Length == 0)
            return;
        int at = 0;
        while (at <= text.Length - literal.Length)
        {
            int found = text.IndexOf(literal, at, StringComparison.Ordinal);
            if (found < 0)
                return;
            matches.Add((found, found + literal.Length));
            at = found + literal.Length;
        }
    }
}
