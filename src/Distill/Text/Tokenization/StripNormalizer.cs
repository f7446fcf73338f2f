namespace Distill.Text.Tokenization;

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
