namespace Distill.Text.Tokenization;

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
