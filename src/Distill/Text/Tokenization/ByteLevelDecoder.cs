using System.Text;

namespace Distill.Text.Tokenization;

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
