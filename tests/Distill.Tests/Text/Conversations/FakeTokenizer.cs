using Distill.Text.Conversations;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text.Conversations;

/// <summary>
/// One token per character, except that each special marker ("&lt;|im_end|&gt;", ...) is one token:
/// enough structure to check masks by hand without a vocabulary file.
/// </summary>
internal sealed class FakeTokenizer(params string[] specials)
{
    private const int SpecialBase = 100_000;

    /// <summary>A token prepended with an empty character range, like an added BOS; null for none.</summary>
    public int? AddedBos { get; init; }

    public Encoding Encode(string text)
    {
        var ids = new List<int>();
        var offsets = new List<(int, int)>();
        if (AddedBos is { } bos)
        {
            ids.Add(bos);
            offsets.Add((0, 0));
        }
        var i = 0;
        while (i < text.Length)
        {
            var special = Array.FindIndex(specials, s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0);
            var length = special >= 0 ? specials[special].Length : 1;
            ids.Add(special >= 0 ? SpecialBase + special : text[i]);
            offsets.Add((i, i + length));
            i += length;
        }
        return new Encoding([.. ids], [.. offsets]);
    }

    /// <summary>
    /// The expected ids and mask of text given as (piece, supervised) segments, each tokenized on its
    /// own: an independent path to the answer, valid because no token crosses a segment border here.
    /// </summary>
    public (string Text, int[] Ids, byte[] Mask) Expect(params (string Piece, bool Supervised)[] segments)
    {
        var ids = new List<int>();
        var mask = new List<byte>();
        foreach (var (piece, supervised) in segments)
        {
            var tokens = Encode(piece).Ids;
            ids.AddRange(tokens);
            mask.AddRange(Enumerable.Repeat((byte)(supervised ? 1 : 0), tokens.Length));
        }
        return (string.Concat(segments.Select(s => s.Piece)), [.. ids], [.. mask]);
    }
}
