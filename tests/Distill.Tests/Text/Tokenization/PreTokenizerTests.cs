using System.Globalization;
using System.Text;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>Word splits of the regexes real tokenizers ship, derived by hand from Oniguruma's code-point semantics.</summary>
public sealed class PreTokenizerTests
{
    private const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string QwenRegex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static string[] Words(IPreTokenizer preTokenizer, string text)
    {
        var words = new List<NormalizedText>();
        preTokenizer.PreTokenize(NormalizedText.Original(text, 0), words);
        return [.. words.Select(w => w.Text)];
    }

    private static string[] Split(string pattern, string text) =>
        Words(new SplitPreTokenizer(new CodePointRegex(pattern, new JsonSource("test"), "pattern"), SplitBehavior.Isolated, false), text);

    [Theory]
    [InlineData("they'RE here", new[] { "they", "'RE", " here" })]
    [InlineData("Hello world!\n", new[] { "Hello", " world", "!\n" })]
    [InlineData("a  b\n\nc", new[] { "a", " ", " b", "\n\n", "c" })]
    [InlineData("1234567", new[] { "123", "456", "7" })]
    [InlineData("😀a", new[] { "😀a" })]
    [InlineData("x𝐀y", new[] { "x𝐀y" })]
    [InlineData("  \n x", new[] { "  \n", " x" })]
    public void Llama3_Regex_Should_Split_Like_Oniguruma(string text, string[] expected) =>
        Assert.Equal(expected, Split(ByteLevelFixture.Llama3Regex, text));

    [Theory]
    [InlineData("😀a", new[] { "😀", "a" })]
    [InlineData("𝐀b c", new[] { "𝐀b", " c" })]
    [InlineData("I'm 42", new[] { "I", "'m", " 42" })]
    [InlineData("a\t\tb", new[] { "a", "\t", "\t", "b" })]
    public void Gpt2_Regex_Should_Split_Like_Oniguruma(string text, string[] expected) =>
        Assert.Equal(expected, Split(Gpt2Regex, text));

    [Fact]
    public void Qwen_Regex_Should_Split_Every_Digit()
    {
        Assert.Equal(["x", "1", "2", "3"], Split(QwenRegex, "x123"));
    }

    [Fact]
    public void ByteLevel_Pre_Tokenizer_Should_Add_Prefix_Space_And_Spell_Bytes()
    {
        var words = Words(new ByteLevelPreTokenizer(addPrefixSpace: true, useRegex: true), "hi é");
        Assert.Equal([ByteLevelVocab.Spell(" hi"), ByteLevelVocab.Spell(" é")], words);
    }

    [Theory]
    [InlineData("Always", true, "a b", new[] { "▁a", "▁b" })]
    [InlineData("Never", true, "a b", new[] { "a", "▁b" })]
    [InlineData("First", false, "a  b", new[] { "▁a▁▁b" })]
    public void Metaspace_Should_Replace_Spaces_Prepend_And_Split(string scheme, bool split, string text, string[] expected) =>
        Assert.Equal(expected, Words(new MetaspacePreTokenizer("▁", Enum.Parse<MetaspacePrependScheme>(scheme), split), text));

    [Fact]
    public void Digits_Pre_Tokenizer_Should_Isolate_Or_Group_Digits()
    {
        Assert.Equal(["a", "1", "2", "b"], Words(new DigitsPreTokenizer(individualDigits: true), "a12b"));
        Assert.Equal(["a", "12", "b"], Words(new DigitsPreTokenizer(individualDigits: false), "a12b"));
    }

    [Fact]
    public void Astral_Stand_Ins_Should_Have_The_Category_They_Stand_For()
    {
        var table = CodePointRegex.BuildStandIns();
        foreach (UnicodeCategory category in Enum.GetValues<UnicodeCategory>())
        {
            if (category is UnicodeCategory.Surrogate)
                continue;
            Assert.Equal(category, CharUnicodeInfo.GetUnicodeCategory(table[(int)category]));
        }
    }

    [Fact]
    public void Shadow_Should_Map_Code_Points_Back_To_Utf16_Indices()
    {
        var (shadow, unitOf) = CodePointRegex.Shadow("a😀𝐀b");
        Assert.Equal(4, shadow.Length);
        Assert.Equal([0, 1, 3, 5, 6], unitOf);
        Assert.Equal(UnicodeCategory.OtherSymbol, CharUnicodeInfo.GetUnicodeCategory(shadow[1]));
        Assert.Equal(UnicodeCategory.UppercaseLetter, CharUnicodeInfo.GetUnicodeCategory(shadow[2]));
        Assert.Equal(Rune.GetUnicodeCategory(new Rune(0x1D400)), CharUnicodeInfo.GetUnicodeCategory(shadow[2]));
    }
}
