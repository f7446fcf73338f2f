using System.Text;

namespace Distill.Text.Tokenization;

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
