namespace Distill.Text.Tokenization;

/// <summary>A literal string pattern (Hugging Face's <c>{"String": ...}</c>), matched ordinally left to right.</summary>
internal sealed class LiteralPattern(string literal) : ISplitPattern
{
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (literal.Length == 0)
            return;
        int at = 0;
        while (at <= text.Length - literal.Length)
        {
            int found = text.IndexOf(literal, at, StringComparison.Ordinal);
            if (found < 0)
                return;
            matches.Add((found, found + literal.Length));
            at = found + literal.Length;
        }
    }
}
