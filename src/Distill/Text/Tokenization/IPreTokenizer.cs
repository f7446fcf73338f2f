namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json pre-tokenizer: cuts one piece of text into the words the model sees.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the non-empty pieces <paramref name="piece"/> becomes.</summary>
    void PreTokenize(NormalizedText piece, List<NormalizedText> output);
}
