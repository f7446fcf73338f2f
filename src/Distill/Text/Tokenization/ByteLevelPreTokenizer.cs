namespace Distill.Text.Tokenization;

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
