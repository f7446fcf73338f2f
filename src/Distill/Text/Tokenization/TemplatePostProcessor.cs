namespace Distill.Text.Tokenization;

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
