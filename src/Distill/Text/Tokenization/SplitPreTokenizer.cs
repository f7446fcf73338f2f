namespace Distill.Text.Tokenization;

/// <summary>Splits on a literal or regex pattern (<c>{"type": "Split"}</c>), e.g. Llama 3's and Qwen2's word regex.</summary>
internal sealed class SplitPreTokenizer(ISplitPattern pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public void PreTokenize(NormalizedText piece, List<NormalizedText> output) =>
        TextSplitter.Split(piece, pattern, invert, behavior, output);
}
