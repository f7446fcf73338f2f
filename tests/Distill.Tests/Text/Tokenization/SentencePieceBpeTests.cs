using System.Text.Json.Nodes;
using static Distill.Tests.Text.SentencePieceFixture;

namespace Distill.Tests.Text;

/// <summary>SentencePiece-style BPE with byte fallback (Llama 2, Mistral, TinyLlama); ids derived by hand from SentencePieceFixture.</summary>
public sealed class SentencePieceBpeTests
{
    [Fact]
    public void Encode_Should_Merge_By_Rank_When_Score_Order_Would_Differ()
    {
        // ▁abc: ▁ a b c; (b,c) rank 0 -> ▁ a bc; (▁,a) rank 1 -> ▁a bc. A score order (lowest id first) would build "ab".
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        var encoding = folder.Load().Encode("abc");
        Assert.Equal([Bos, SpaceA, Bc], encoding.Ids);
        Assert.Equal([(0, 0), (0, 1), (1, 3)], encoding.Offsets);
    }

    [Fact]
    public void Encode_Should_Fall_Back_To_Byte_Tokens_For_Unknown_Characters()
    {
        // ▁hi▁😀: ▁ h i ▁ + bytes F0 9F 98 80; (h,i) -> hi, (▁,hi) -> ▁hi.
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        var encoding = folder.Load().Encode("hi 😀");
        Assert.Equal([Bos, SpaceHi, Space, Byte(0xF0), Byte(0x9F), Byte(0x98), Byte(0x80)], encoding.Ids);
        Assert.Equal([(0, 0), (0, 2), (2, 3), (3, 5), (3, 5), (3, 5), (3, 5)], encoding.Offsets);
    }

    [Fact]
    public void Decode_Should_Rebuild_Bytes_And_Strip_The_Leading_Space()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        var tokenizer = folder.Load();
        var ids = tokenizer.Encode("hi 😀").Ids;
        Assert.Equal("<s> hi 😀", tokenizer.Decode(ids));
        Assert.Equal("hi 😀", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Decode_Should_Emit_One_Replacement_Character_Per_Invalid_Byte()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        var tokenizer = folder.Load();
        Assert.Equal("\uFFFD\uFFFD", tokenizer.Decode([Byte(0xF0), Byte(0x9F)]));
        Assert.Equal("a\uFFFDb", tokenizer.Decode([A, Byte(0xFF), B]));
    }

    [Fact]
    public void Encode_Should_Keep_Whitespace_Runs_As_Separate_Pieces()
    {
        // ▁a▁▁b: (▁,a) rank 1 -> ▁a ▁ ▁ b; (▁,b) rank 5 -> ▁a ▁ ▁b.
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        var encoding = folder.Load().Encode("a  b", addSpecialTokens: false);
        Assert.Equal([SpaceA, Space, SpaceB], encoding.Ids);
        Assert.Equal([(0, 1), (1, 2), (2, 4)], encoding.Offsets);
    }

    [Fact]
    public void Encode_Should_Use_Byte_Token_For_Newline()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy());
        Assert.Equal([SpaceA, Byte('\n'), B], folder.Load().Encode("a\nb", addSpecialTokens: false).Ids);
    }

    [Theory]
    [InlineData(true, new[] { SpaceA, Unk, B })]
    [InlineData(false, new[] { SpaceA, Unk, Unk, B })]
    public void Unknown_Characters_Without_Byte_Fallback_Should_Become_Unk_Fused_Or_Not(bool fuseUnk, int[] expected)
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy(byteFallback: false, fuseUnk: fuseUnk));
        var encoding = folder.Load().Encode("aéèb", addSpecialTokens: false);
        Assert.Equal(expected, encoding.Ids);
        Assert.Equal((1, fuseUnk ? 3 : 2), encoding.Offsets[1]);
    }

    [Fact]
    public void Legacy_Normalizer_Should_Prepend_After_Special_Tokens_But_Metaspace_First_Should_Not()
    {
        using var legacy = new TokenizerFolder().Write("tokenizer.json", Legacy());
        Assert.Equal([Bos, SpaceHi, Eos, SpaceHi], legacy.Load().Encode("hi</s>hi").Ids);
        using var metaspace = new TokenizerFolder().Write("tokenizer.json", Metaspace());
        var encoding = metaspace.Load().Encode("hi</s>hi");
        Assert.Equal([Bos, SpaceHi, Eos, Hi], encoding.Ids);
        Assert.Equal([(0, 0), (0, 2), (2, 6), (6, 8)], encoding.Offsets);
    }

    [Fact]
    public void Metaspace_Decoder_Should_Drop_The_Prefix_Of_The_First_Token_Only()
    {
        var decoder = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "always", ["split"] = true };
        using var folder = new TokenizerFolder().Write("tokenizer.json", Metaspace("always", decoder));
        Assert.Equal("a b", folder.Load().Decode([SpaceA, SpaceB]));
    }

    [Fact]
    public void Llama_Tokenizer_Class_Should_Follow_Add_Bos_And_Add_Eos_Flags()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Legacy()).Write("tokenizer_config.json",
            """{"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "add_eos_token": true, "bos_token": "<s>", "eos_token": "</s>"}""");
        Assert.Equal([SpaceA, Bc, Eos], folder.Load().Encode("abc").Ids);
    }

    [Fact]
    public void Merges_Across_A_Space_Should_Apply_When_The_Vocabulary_Has_Inner_Metaspace_Tokens()
    {
        // A token with '▁' inside ("a▁", id 271, merge rank 6) forbids tokenizing "▁word" pieces apart.
        // ▁a▁b: (▁,a) r1 -> ▁a ▁ b; (▁,b) r5 -> ▁a ▁b. ▁ca▁: (a,▁) r6 -> ▁ c a▁ (split apart: ▁ c a | ▁).
        var json = Legacy();
        json["model"]!["vocab"]!["a▁"] = 271;
        json["model"]!["merges"]!.AsArray().Add("a ▁");
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        var tokenizer = folder.Load();
        Assert.Equal([SpaceA, SpaceB], tokenizer.Encode("a b", addSpecialTokens: false).Ids);
        Assert.Equal([Space, C, 271], tokenizer.Encode("ca ", addSpecialTokens: false).Ids);
    }
}
