using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json pre-tokenizer: cuts one piece of text into the words the model sees.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the non-empty pieces <paramref name="piece"/> becomes.</summary>
    void PreTokenize(NormalizedText piece, List<NormalizedText> output);
}

/// <summary>Runs pre-tokenizers one after another, each on every piece the previous one produced.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> stages) : IPreTokenizer
{
    public void PreTokenize(NormalizedText piece, List<NormalizedText> output)
    {
        var current = new List<NormalizedText> { piece };
        var next = new List<NormalizedText>();
        foreach (var stage in stages)
        {
            next.Clear();
            foreach (var p in current)
                stage.PreTokenize(p, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}

/// <summary>Splits on a literal or regex pattern (<c>{"type": "Split"}</c>), e.g. Llama 3's and Qwen2's word regex.</summary>
internal sealed class SplitPreTokenizer(ISplitPattern pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public void PreTokenize(NormalizedText piece, List<NormalizedText> output) =>
        TextSplitter.Split(piece, pattern, invert, behavior, output);
}

/// <summary>What a split does with the delimiters it finds (Hugging Face's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>Separates numeric characters from the rest, one by one or in runs (<c>{"type": "Digits"}</c>).</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : IPreTokenizer
{
    private static readonly CharClassPattern Numeric = new(r => Rune.GetUnicodeCategory(r)
        is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber);

    public void PreTokenize(NormalizedText piece, List<NormalizedText> output) =>
        TextSplitter.Split(piece, Numeric, false,
            individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, output);
}

/// <summary>
/// GPT-2's byte-level step (<c>{"type": "ByteLevel"}</c>): optional leading space, optional split
/// with GPT-2's fixed word regex, then every UTF-8 byte becomes one printable character.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Lazy<CodePointRegex> Gpt2Regex =
        new(() => new CodePointRegex(Gpt2Pattern, new JsonSource("built-in ByteLevel"), "regex"));
    private static readonly PrependNormalizer Space = new(" ");

    public void PreTokenize(NormalizedText piece, List<NormalizedText> output)
    {
        if (addPrefixSpace && !piece.Text.StartsWith(' '))
            piece = Space.Normalize(piece);
        if (!useRegex)
        {
            output.Add(ByteLevelAlphabet.Map(piece));
            return;
        }
        int first = output.Count;
        TextSplitter.Split(piece, Gpt2Regex.Value, false, SplitBehavior.Isolated, output);
        for (int i = first; i < output.Count; i++)
            output[i] = ByteLevelAlphabet.Map(output[i]);
    }
}

/// <summary>
/// SentencePiece's space handling (<c>{"type": "Metaspace"}</c>): spaces become the replacement
/// ('▁'), a replacement is prepended per the scheme, and with split on, each '▁' starts a new word.
/// </summary>
internal sealed class MetaspacePreTokenizer : IPreTokenizer
{
    private readonly string _replacement;
    private readonly MetaspacePrependScheme _scheme;
    private readonly bool _split;
    private readonly ReplaceNormalizer _spaces;
    private readonly PrependNormalizer _prepend;
    private readonly CharClassPattern _delimiter;

    public MetaspacePreTokenizer(string replacement, MetaspacePrependScheme scheme, bool split)
    {
        _replacement = replacement;
        _scheme = scheme;
        _split = split;
        _spaces = new ReplaceNormalizer(new LiteralPattern(" "), " ", replacement);
        _prepend = new PrependNormalizer(replacement);
        var rune = Rune.GetRuneAt(replacement, 0);
        _delimiter = new CharClassPattern(r => r == rune);
    }

    public void PreTokenize(NormalizedText piece, List<NormalizedText> output)
    {
        piece = _spaces.Normalize(piece);
        bool prepend = _scheme == MetaspacePrependScheme.Always
            || (_scheme == MetaspacePrependScheme.First && piece.OriginalStart(0) == 0);
        if (prepend && !piece.Text.StartsWith(_replacement, StringComparison.Ordinal))
            piece = _prepend.Normalize(piece);
        if (_split)
            TextSplitter.Split(piece, _delimiter, false, SplitBehavior.MergedWithNext, output);
        else
            output.Add(piece);
    }
}

/// <summary>When Metaspace puts a '▁' in front of a piece: always, only at the very start of the input, or never.</summary>
internal enum MetaspacePrependScheme
{
    Always,
    First,
    Never,
}
