namespace Distill.Text.Tokenization;

/// <summary>Runs post-processors in order (Llama 3: ByteLevel, then TemplateProcessing).</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken)
    {
        foreach (var processor in processors)
            processor.Process(tokens, addSpecialTokens, idToToken);
    }
}
