namespace Distill.Text.Tokenization;

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing copies of a character from each token.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (string token in tokens)
        {
            int from = 0, to = token.Length;
            for (int i = 0; i < start && from + content.Length <= to && token.AsSpan(from).StartsWith(content); i++)
                from += content.Length;
            for (int i = 0; i < stop && to - content.Length >= from && token.AsSpan(0, to).EndsWith(content); i++)
                to -= content.Length;
            result.Add(token[from..to]);
        }
        return result;
    }
}
