namespace Distill.Text.Tokenization;

/// <summary>
/// Turns the replacement ('▁') back into spaces; in the first token, unless the prepend scheme is
/// "never", replacements are dropped instead (they were the added prefix).
/// </summary>
internal sealed class MetaspaceDecoder(string replacement, MetaspacePrependScheme scheme) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string with = i == 0 && scheme != MetaspacePrependScheme.Never ? "" : " ";
            result.Add(tokens[i].Replace(replacement, with, StringComparison.Ordinal));
        }
        return result;
    }
}
