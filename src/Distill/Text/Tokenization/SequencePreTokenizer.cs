namespace Distill.Text.Tokenization;

/// <summary>Runs pre-tokenizers one after another, each on every piece the previous one produced.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> stages) : IPreTokenizer
{
    public void PreTokenize(NormalizedText piece, List<NormalizedText> output)
    {
        var current = new List<NormalizedText> { piece };
        var next = new List<NormalizedText>();
        foreach (var stage in stages)
        {
            next.Clear();
            foreach (var p in current)
                stage.PreTokenize(p, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}
