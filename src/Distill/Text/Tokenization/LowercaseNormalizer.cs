using System.Text;

namespace Distill.Text.Tokenization;

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
