namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json post-processor: adds template tokens and/or adjusts offsets of an encoded sequence.</summary>
internal interface IPostProcessor
{
    /// <param name="tokens">Token ids with offsets into the caller's string; edited in place.</param>
    /// <param name="addSpecialTokens">Whether template tokens (BOS, EOS) are wanted.</param>
    /// <param name="idToToken">The tokenizer's id → token string map.</param>
    void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken);
}

/// <summary>Runs post-processors in order (Llama 3: ByteLevel, then TemplateProcessing).</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken)
    {
        foreach (var processor in processors)
            processor.Process(tokens, addSpecialTokens, idToToken);
    }
}

/// <summary>
/// TemplateProcessing's single-sequence template: the pieces in order, where each special piece
/// contributes its ids with empty (0, 0) offsets, as Hugging Face reports them.
/// </summary>
/// <param name="template">Per piece: the special token ids, or null for the sequence itself ("$A").</param>
internal sealed class TemplatePostProcessor(IReadOnlyList<int[]?> template) : IPostProcessor
{
    /// <summary>The template as given: null marks the sequence, arrays are special-token ids.</summary>
    public IReadOnlyList<int[]?> Template { get; } = template;

    public void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken)
    {
        if (!addSpecialTokens)
            return;
        var sequence = tokens.ToArray();
        tokens.Clear();
        foreach (var piece in Template)
        {
            if (piece is null)
                tokens.AddRange(sequence);
            else
                tokens.AddRange(piece.Select(id => new TokenSpan(id, 0, 0)));
        }
    }
}

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
