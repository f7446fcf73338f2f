namespace Distill.Text.Tokenization;

/// <summary>Finds the delimiters a split pre-tokenizer or replace normalizer acts on.</summary>
internal interface ISplitPattern
{
    /// <summary>Appends the non-empty, non-overlapping matches in <paramref name="text"/>, in order, as UTF-16 ranges.</summary>
    void FindMatches(string text, List<(int Start, int End)> matches);
}
