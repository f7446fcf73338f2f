namespace Distill.Text.Tokenization;

/// <summary>Runs normalizers one after another (<c>{"type": "Sequence"}</c>).</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public NormalizedText Normalize(NormalizedText text)
    {
        foreach (var normalizer in normalizers)
            text = normalizer.Normalize(text);
        return text;
    }
}
