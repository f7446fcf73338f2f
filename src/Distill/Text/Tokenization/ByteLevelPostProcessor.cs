namespace Distill.Text.Tokenization;

/// <summary>
/// The ByteLevel post-processor: with <c>trim_offsets</c>, offsets exclude a token's leading and
/// trailing spaces ('Ġ'), except the one space <c>add_prefix_space</c> put before the first token.
/// </summary>
internal sealed class ByteLevelPostProcessor(bool trimOffsets, bool addPrefixSpace) : IPostProcessor
{
    private static readonly char Space = ByteLevelAlphabet.ByteToChar[' '];

    public void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken)
    {
        if (!trimOffsets)
            return;
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            string text = idToToken(t.Id) ?? "";
            int leading = 0, trailing = 0;
            while (leading < text.Length && IsSpace(text[leading]))
                leading++;
            while (trailing < text.Length && IsSpace(text[text.Length - 1 - trailing]))
                trailing++;
            int start = t.Start, end = t.End;
            if (leading > 0)
            {
                bool isFirst = i == 0 || start == 0;
                if (isFirst && addPrefixSpace && leading == 1)
                    leading = 0;
                start = Math.Min(start + leading, end);
            }
            if (trailing > 0 && end >= trailing)
                end = Math.Max(end - trailing, start);
            tokens[i] = t with { Start = start, End = end };
        }
    }

    private static bool IsSpace(char c) => c == Space || char.IsWhiteSpace(c);
}
