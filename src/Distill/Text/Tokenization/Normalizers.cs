using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites text while keeping each unit's original span.</summary>
internal interface INormalizer
{
    NormalizedText Normalize(NormalizedText text);
}

/// <summary>Runs normalizers one after another (<c>{"type": "Sequence"}</c>).</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        foreach (var normalizer in normalizers)
            text = normalizer.Normalize(text);
        return text;
    }
}

/// <summary>Lower-cases each code point (invariant culture); each result keeps its code point's span.</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        string s = text.Text;
        string lower = s.ToLowerInvariant();
        if (lower.Length == s.Length)
            return lower == s ? text : text.WithSameAlignment(lower);
        var builder = new NormalizedTextBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            Rune.DecodeFromUtf16(s.AsSpan(i), out Rune rune, out int width);
            var (start, end) = text.OriginalSpan(i, i + width);
            builder.Append(Rune.ToLowerInvariant(rune).ToString(), start, end);
            i += width;
        }
        return builder.Build();
    }
}

/// <summary>
/// Puts a fixed string in front of non-empty text (SentencePiece's "▁" in older Llama files); the
/// prefix takes the original span of the first character, as in Hugging Face.
/// </summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        if (text.Length == 0)
            return text;
        int firstWidth = char.IsHighSurrogate(text.Text[0]) && text.Length > 1 ? 2 : 1;
        var (start, end) = text.OriginalSpan(0, firstWidth);
        var builder = new NormalizedTextBuilder(text.Length + prefix.Length);
        builder.Append(prefix, start, end);
        builder.AppendFrom(text, 0, text.Length);
        return builder.Build();
    }
}

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

/// <summary>Removes leading and/or trailing whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        int start = 0, end = text.Length;
        if (left)
        {
            while (start < end && char.IsWhiteSpace(text.Text[start]))
                start++;
        }
        if (right)
        {
            while (end > start && char.IsWhiteSpace(text.Text[end - 1]))
                end--;
        }
        return text.Slice(start, end);
    }
}

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
