using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json decoder step: maps the token strings to new strings, which are finally concatenated.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}

/// <summary>Concatenates all tokens into one string.</summary>
internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

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

/// <summary>Runs decoder steps in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> decoders) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var decoder in decoders)
            tokens = decoder.DecodeChain(tokens);
        return tokens;
    }
}

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

/// <summary>
/// Turns byte-level characters back into bytes and the bytes into UTF-8 text (invalid sequences
/// become U+FFFD). A token with any character outside the byte alphabet (an added token such as
/// "&lt;|endoftext|&gt;") contributes its own UTF-8 bytes unchanged.
/// </summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (token.All(c => ByteLevelAlphabet.CharToByte(c) >= 0))
            {
                foreach (char c in token)
                    bytes.Add((byte)ByteLevelAlphabet.CharToByte(c));
            }
            else
            {
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
            }
        }
        return [System.Text.Encoding.UTF8.GetString([.. bytes])];
    }
}

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
