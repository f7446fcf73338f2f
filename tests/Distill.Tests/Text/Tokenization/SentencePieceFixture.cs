using System.Text.Json.Nodes;

namespace Distill.Tests.Text;

/// <summary>
/// A small Llama-2-style vocabulary: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, the 256 byte tokens &lt;0x00&gt;..&lt;0xFF&gt;
/// at ids 3..258 (byte b has id 3 + b), then pieces from 259.
/// </summary>
internal static class SentencePieceFixture
{
    public const int Unk = 0, Bos = 1, Eos = 2, Space = 259, A = 260, B = 261, C = 262, Ab = 263, Bc = 264, SpaceA = 265,
        SpaceB = 266, H = 267, I = 268, Hi = 269, SpaceHi = 270;

    public static int Byte(int b) => 3 + b;

    public static JsonObject Vocab()
    {
        var vocab = new JsonObject { ["<unk>"] = Unk, ["<s>"] = Bos, ["</s>"] = Eos };
        for (int b = 0; b < 256; b++)
            vocab[$"<0x{b:X2}>"] = Byte(b);
        string[] pieces = ["▁", "a", "b", "c", "ab", "bc", "▁a", "▁b", "h", "i", "hi", "▁hi"];
        for (int i = 0; i < pieces.Length; i++)
            vocab[pieces[i]] = Space + i;
        return vocab;
    }

    /// <summary>Ranks: "b c" 0, "▁ a" 1, "a b" 2, "h i" 3, "▁ hi" 4, "▁ b" 5. "ab" has a lower id than "bc" (a score order would prefer it).</summary>
    public static JsonArray Merges() => ["b c", "▁ a", "a b", "h i", "▁ hi", "▁ b"];

    public static JsonArray SpecialTokens() =>
        [TokenizerFolder.Added(Unk, "<unk>"), TokenizerFolder.Added(Bos, "<s>"), TokenizerFolder.Added(Eos, "</s>")];

    private static JsonObject Replace(string from, string to) => new()
    {
        ["type"] = "Replace",
        ["pattern"] = new JsonObject { ["String"] = from },
        ["content"] = to,
    };

    private static JsonObject Decoder() => new()
    {
        ["type"] = "Sequence",
        ["decoders"] = new JsonArray(
            Replace("▁", " "),
            new JsonObject { ["type"] = "ByteFallback" },
            new JsonObject { ["type"] = "Fuse" },
            new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
    };

    /// <summary>Llama 2's original layout: Prepend + Replace normalizer, no pre-tokenizer.</summary>
    public static JsonObject Legacy(bool byteFallback = true, bool fuseUnk = true) =>
        TokenizerFolder.TokenizerJson(
            TokenizerFolder.Bpe(Vocab(), Merges(), byteFallback: byteFallback, unk: "<unk>", fuseUnk: fuseUnk),
            normalizer: new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" }, Replace(" ", "▁")),
            },
            postProcessor: ByteLevelFixture.Template("<s>", Bos),
            decoder: Decoder(),
            addedTokens: SpecialTokens());

    /// <summary>The newer layout: Metaspace pre-tokenizer with prepend_scheme "first", Metaspace-free decoder chain.</summary>
    public static JsonObject Metaspace(string scheme = "first", JsonObject? decoder = null) =>
        TokenizerFolder.TokenizerJson(
            TokenizerFolder.Bpe(Vocab(), Merges(), byteFallback: true, unk: "<unk>", fuseUnk: true),
            preTokenizer: new JsonObject
            {
                ["type"] = "Metaspace",
                ["replacement"] = "▁",
                ["prepend_scheme"] = scheme,
                ["split"] = false,
            },
            postProcessor: ByteLevelFixture.Template("<s>", Bos),
            decoder: decoder ?? Decoder(),
            addedTokens: SpecialTokens());
}
