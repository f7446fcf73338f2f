using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>
/// NFC / NFD / NFKC / NFKD. Text is normalized in chunks that each start at a base character, so
/// every output unit keeps the original span of the chunk it came from.
/// </summary>
internal sealed class UnicodeNormalizer(NormalizationForm form) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        string s = text.Text;
        if (s.IsNormalized(form))
            return text;
        var builder = new NormalizedTextBuilder(s.Length + 8);
        int i = 0;
        while (i < s.Length)
        {
            int chunkStart = i;
            i += Width(s, i);
            while (i < s.Length && Combines(s, i))
                i += Width(s, i);
            string chunk = s[chunkStart..i];
            string normalized = chunk.Normalize(form);
            if (normalized == chunk)
            {
                builder.AppendFrom(text, chunkStart, i);
                continue;
            }
            var (start, end) = text.OriginalSpan(chunkStart, i);
            builder.Append(normalized, start, end);
        }
        var result = builder.Build();
        string whole = s.Normalize(form);
        if (result.Text == whole)
            return result;
        // A composition across chunk boundaries we did not foresee: keep the exact text and give
        // every unit the whole piece's span rather than a wrong finer one.
        var (allStart, allEnd) = text.OriginalSpan(0, s.Length);
        var coarse = new NormalizedTextBuilder(whole.Length);
        coarse.Append(whole, allStart, allEnd);
        return coarse.Build();
    }

    private static int Width(string s, int i) =>
        char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;

    /// <summary>Whether the code point at i can merge with what precedes it (marks, Hangul vowels and finals).</summary>
    private static bool Combines(string s, int i)
    {
        Rune.DecodeFromUtf16(s.AsSpan(i), out Rune rune, out _);
        if (rune.Value is >= 0x1160 and <= 0x11FF)
            return true;
        var category = Rune.GetUnicodeCategory(rune);
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark;
    }
}
