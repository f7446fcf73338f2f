using System.Text;

namespace Distill.Text.Tokenization;

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
