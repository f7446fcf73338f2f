using System.Text;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>Normalizers rewrite text and keep, for every output unit, the original span it came from.</summary>
public sealed class NormalizerTests
{
    private static (string Text, (int, int)[] Spans) Run(INormalizer normalizer, string text)
    {
        var result = normalizer.Normalize(NormalizedText.Original(text, 0));
        return (result.Text, [.. Enumerable.Range(0, result.Length).Select(i => (result.OriginalStart(i), result.OriginalEnd(i)))]);
    }

    [Fact]
    public void Prepend_Should_Give_The_Prefix_The_First_Character_Span()
    {
        var (text, spans) = Run(new PrependNormalizer("▁"), "ab");
        Assert.Equal("▁ab", text);
        Assert.Equal([(0, 1), (0, 1), (1, 2)], spans);
    }

    [Fact]
    public void Regex_Replace_Should_Map_The_Replacement_To_The_Whole_Match()
    {
        var pattern = new CodePointRegex(@"\s+", new JsonSource("test"), "pattern");
        var (text, spans) = Run(new ReplaceNormalizer(pattern, null, " "), "a \t b");
        Assert.Equal("a b", text);
        Assert.Equal([(0, 1), (1, 4), (4, 5)], spans);
    }

    [Fact]
    public void Nfd_Should_Give_Decomposed_Marks_The_Composed_Character_Span()
    {
        var (text, spans) = Run(new UnicodeNormalizer(NormalizationForm.FormD), "xé");
        Assert.Equal("xe\u0301", text);
        Assert.Equal([(0, 1), (1, 2), (1, 2)], spans);
    }

    [Fact]
    public void Nfkc_Should_Expand_Ligatures_Within_Their_Span()
    {
        var (text, spans) = Run(new UnicodeNormalizer(NormalizationForm.FormKC), "ﬁx");
        Assert.Equal("fix", text);
        Assert.Equal([(0, 1), (0, 1), (1, 2)], spans);
    }

    [Fact]
    public void Lowercase_And_Strip_Should_Keep_Unit_Alignment()
    {
        var sequence = new SequenceNormalizer([new StripNormalizer(true, true), new LowercaseNormalizer()]);
        var (text, spans) = Run(sequence, "  AbC ");
        Assert.Equal("abc", text);
        Assert.Equal([(2, 3), (3, 4), (4, 5)], spans);
    }
}
