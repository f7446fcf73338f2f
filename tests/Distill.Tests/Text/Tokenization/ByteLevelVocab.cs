using System.Text;
using System.Text.Json.Nodes;

namespace Distill.Tests.Text;

/// <summary>
/// Builds byte-level vocabularies whose ids are easy to derive by hand: the token of byte b has
/// id b, extra tokens follow from 256 in the order given.
/// </summary>
internal static class ByteLevelVocab
{
    private static readonly Dictionary<int, char> ByteToChar = BytesToUnicode();

    /// <summary>GPT-2's bytes_to_unicode as its paper code defines it (printable bytes kept, others from U+0100).</summary>
    private static Dictionary<int, char> BytesToUnicode()
    {
        var kept = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1))
            .Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToList();
        var map = kept.ToDictionary(b => b, b => (char)b);
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!map.ContainsKey(b))
                map[b] = (char)(256 + n++);
        }
        return map;
    }

    /// <summary>The byte-level spelling of text: one character per UTF-8 byte.</summary>
    public static string Spell(string text) => string.Concat(Encoding.UTF8.GetBytes(text).Select(b => ByteToChar[b]));

    /// <summary>The byte-level spelling of raw bytes (for pieces of a character).</summary>
    public static string SpellBytes(params byte[] bytes) => string.Concat(bytes.Select(b => ByteToChar[b]));

    /// <summary>Bytes 0..255 as ids 0..255, then the already spelled <paramref name="extra"/> tokens from 256.</summary>
    public static JsonObject Vocab(params string[] extra)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
            vocab[ByteToChar[b].ToString()] = b;
        for (int i = 0; i < extra.Length; i++)
            vocab[extra[i]] = 256 + i;
        return vocab;
    }

    /// <summary>Merges of spelled tokens in tokenizer.json's "left right" form.</summary>
    public static JsonArray Merges(params (string Left, string Right)[] merges) =>
        [.. merges.Select(m => (JsonNode)$"{m.Left} {m.Right}")];

    /// <summary>The same merges in the newer ["left", "right"] pair form.</summary>
    public static JsonArray PairMerges(params (string Left, string Right)[] merges) =>
        [.. merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right))];
}
