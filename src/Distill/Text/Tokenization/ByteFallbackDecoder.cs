using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>
/// Joins runs of "&lt;0xXX&gt;" tokens into the UTF-8 text they spell; a run that is not valid
/// UTF-8 becomes one U+FFFD per byte token, as in Hugging Face.
/// </summary>
internal sealed class ByteFallbackDecoder : IDecoder
{
    private static readonly UTF8Encoding Strict = new(false, true);

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByte(token, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, result);
            result.Add(token);
        }
        Flush(pending, result);
        return result;
    }

    private static bool TryParseByte(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static void Flush(List<byte> pending, List<string> result)
    {
        if (pending.Count == 0)
            return;
        try
        {
            result.Add(Strict.GetString([.. pending]));
        }
        catch (DecoderFallbackException)
        {
            for (int i = 0; i < pending.Count; i++)
                result.Add("\uFFFD");
        }
        pending.Clear();
    }
}
