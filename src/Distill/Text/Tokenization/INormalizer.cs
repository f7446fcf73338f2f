namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites text while keeping each unit's original span.</summary>
internal interface INormalizer
{
    NormalizedText Normalize(NormalizedText text);
}
