using System.Globalization;
using Distill.Text.Tokenization;

namespace Distill.Serving;

/// <summary>
/// The exact bytes of one token, OpenAI's <c>bytes</c> field of a log-probability: what a client needs to map the
/// server's tokens onto its own tokenizer (black-box KD), also for a token that ends inside a multi-byte character,
/// whose decoded text is only U+FFFD.
/// </summary>
public static class TokenBytes
{
    /// <summary>The bytes token <paramref name="id"/> stands for.</summary>
    public static byte[] Of(HfTokenizer tokenizer, int id)
    {
        var text = tokenizer.Decode([id]);
        if (!text.Contains('\uFFFD') || tokenizer.IdToToken(id) is not { Length: > 0 } token)
            return System.Text.Encoding.UTF8.GetBytes(text);
        // SentencePiece byte fallback: "<0xE2>".
        if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[^1] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var single))
            return [single];
        // GPT-2 byte-level: every character of the token string stands for one byte.
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var b = ByteLevelAlphabet.CharToByte(token[i]);
            if (b < 0) return System.Text.Encoding.UTF8.GetBytes(text);
            bytes[i] = (byte)b;
        }
        return bytes;
    }
}
