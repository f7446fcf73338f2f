namespace Distill.Text.Tokenization;

/// <summary>Replaces a pattern's matches in each token (Llama 2: '▁' back to ' ').</summary>
internal sealed class ReplaceDecoder(ISplitPattern pattern, string content) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var matches = new List<(int Start, int End)>();
        foreach (string token in tokens)
        {
            matches.Clear();
            pattern.FindMatches(token, matches);
            if (matches.Count == 0)
            {
                result.Add(token);
                continue;
            }
            var builder = new System.Text.StringBuilder(token.Length);
            int previous = 0;
            foreach (var (start, end) in matches)
            {
                builder.Append(token, previous, start - previous).Append(content);
                previous = end;
            }
            result.Add(builder.Append(token, previous, token.Length - previous).ToString());
        }
        return result;
    }
}
