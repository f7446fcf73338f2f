using System.Text.Json.Nodes;
using static Distill.Tests.Text.ByteLevelFixture;

namespace Distill.Tests.Text;

/// <summary>Byte-level BPE (GPT-2 / Llama 3 / Qwen2 layouts); every expected id is derived by hand from ByteLevelFixture.</summary>
public sealed class ByteLevelBpeTests
{
    private static int[] Ids(JsonObject tokenizerJson, string text, bool addSpecialTokens = true)
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", tokenizerJson);
        return folder.Load().Encode(text, addSpecialTokens).Ids;
    }

    [Fact]
    public void Encode_Should_Merge_Words_And_Report_Char_Offsets()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2());
        var encoding = folder.Load().Encode("the cat");
        // "the": t h e -> (h,e) -> t he. " cat": Ġ c a t -> ca -> cat -> Ġcat.
        Assert.Equal([116, He, SpaceCat], encoding.Ids);
        Assert.Equal([(0, 1), (1, 3), (3, 7)], encoding.Offsets);
    }

    [Fact]
    public void Encode_Should_Apply_Merges_By_Rank_Not_By_Merged_Token_Id()
    {
        // a b c: "b c" has rank 12, "a b" rank 13, although "ab" has the lower id.
        Assert.Equal([97, Bc], Ids(Gpt2(), "abc"));
    }

    [Fact]
    public void Encode_Should_Chain_Merges_In_Rank_Order()
    {
        // Ġ t h e: (h,e) rank 0, then (Ġ,t) rank 1, then (Ġt,he) rank 2.
        Assert.Equal([SpaceThe], Ids(Gpt2(), " the"));
    }

    [Fact]
    public void Encode_Should_Accept_Pair_Form_Merges()
    {
        Assert.Equal(Ids(Gpt2(), "the cat abc"), Ids(Gpt2(pairMerges: true), "the cat abc"));
        Assert.Equal([116, He, SpaceCat, 32, 97, Bc], Ids(Gpt2(pairMerges: true), "the cat abc"));
    }

    [Fact]
    public void Gpt2_Regex_Should_Split_Whitespace_Runs_And_Newlines_Separately()
    {
        // a | Ġ | Ġb | Ċ | Ċ | c : "\s+(?!\S)" leaves the last space to the next word, newlines one by one.
        Assert.Equal([97, 32, 32, 98, 10, 10, 99], Ids(Gpt2(), "a  b\n\nc"));
    }

    [Fact]
    public void Llama3_Regex_Should_Keep_Newline_Runs_Together()
    {
        // a | Ġ | Ġb | ĊĊ (in vocab) | c, after the BOS token.
        Assert.Equal([Bos, 97, 32, 32, 98, TwoNewlines, 99], Ids(Llama3(), "a  b\n\nc"));
    }

    [Fact]
    public void Llama3_Regex_Should_Split_Digits_In_Threes()
    {
        // 123 | 45, each found whole in the vocabulary.
        Assert.Equal([D123, D45], Ids(Llama3(), "12345", addSpecialTokens: false));
    }

    [Fact]
    public void Gpt2_Regex_Should_Keep_Digit_Runs_And_Stop_At_Stale_Merges()
    {
        // 1 2 3 4 5: (1,2) r8 -> 12 3 4 5; (3,4) r9 -> 12 34 5; (12,3) r10 is stale; (4,5) r11 is gone.
        Assert.Equal([D12, D34, 53], Ids(Gpt2(), "12345"));
    }

    [Fact]
    public void Ignore_Merges_Should_Emit_A_Whole_Word_Found_In_The_Vocabulary()
    {
        // " xyz" is in the vocabulary but unreachable by merges: x y -> xy only.
        Assert.Equal([SpaceXyz], Ids(Llama3(), " xyz", addSpecialTokens: false));
        Assert.Equal([32, Xy, 122], Ids(Gpt2(), " xyz"));
    }

    [Fact]
    public void Encode_Should_Treat_An_Astral_Symbol_As_One_Character_In_The_Regex()
    {
        // Llama 3: "[^\r\n\p{L}\p{N}]?\p{L}+" takes the emoji as the optional prefix of "a": one word "😀a" (in vocab).
        using var folder = new TokenizerFolder().Write("tokenizer.json", Llama3());
        var encoding = folder.Load().Encode("😀a", addSpecialTokens: false);
        Assert.Equal([GrinA], encoding.Ids);
        Assert.Equal([(0, 3)], encoding.Offsets);
        // GPT-2: " ?[^\s\p{L}\p{N}]+" stops before the letter: 😀 | a.
        Assert.Equal([Grin, 97], Ids(Gpt2(), "😀a"));
    }

    [Fact]
    public void Offsets_Of_Tokens_Inside_One_Character_Should_Span_The_Whole_Character()
    {
        // " 😕" = Ġ F0 9F 98 95: F0 9F -> F09F, then + 98 -> F09F98; 0x95 stays a byte.
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2());
        var encoding = folder.Load().Encode(" 😕");
        Assert.Equal([32, F09F98, 0x95], encoding.Ids);
        Assert.Equal([(0, 1), (1, 3), (1, 3)], encoding.Offsets);
    }

    [Fact]
    public void Nfc_Normalizer_Should_Compose_Before_Encoding_And_Keep_Original_Offsets()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Llama3(new JsonObject { ["type"] = "NFC" }));
        var encoding = folder.Load().Encode("e\u0301", addSpecialTokens: false);
        Assert.Equal([EAcute], encoding.Ids);
        Assert.Equal([(0, 2)], encoding.Offsets);
    }

    [Fact]
    public void Template_Should_Add_Bos_Only_When_Special_Tokens_Are_Requested()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Llama3());
        var tokenizer = folder.Load();
        var encoding = tokenizer.Encode("hi<|eot_id|>the");
        Assert.Equal([Bos, 104, 105, Eot, 116, He], encoding.Ids);
        Assert.Equal([(0, 0), (0, 1), (1, 2), (2, 12), (12, 13), (13, 15)], encoding.Offsets);
        Assert.Equal([104, 105, Eot, 116, He], tokenizer.Encode("hi<|eot_id|>the", addSpecialTokens: false).Ids);
    }

    [Fact]
    public void Decode_Should_Round_Trip_Text_And_Skip_Special_Tokens_On_Request()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Llama3());
        var tokenizer = folder.Load();
        const string text = "Hello, wörld! 😀 the cat\n\n  tabs\tand 12345 <|eot_id|>done";
        var ids = tokenizer.Encode(text).Ids;
        Assert.Equal("<|begin_of_text|>" + text, tokenizer.Decode(ids));
        Assert.Equal(text.Replace("<|eot_id|>", ""), tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Decode_Should_Replace_Invalid_Utf8_With_Replacement_Character()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2());
        Assert.Equal("a\uFFFD", folder.Load().Decode([97, F09F]));
    }

    [Fact]
    public void ByteLevel_Post_Processor_Should_Trim_Leading_Space_From_Offsets_When_Asked()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2(postProcessor: ByteLevelStep(false, true, trimOffsets: true)));
        var encoding = folder.Load().Encode("the cat");
        Assert.Equal([(0, 1), (1, 3), (4, 7)], encoding.Offsets);
    }

    [Fact]
    public void Encode_Should_Return_Only_Template_Tokens_For_Empty_Text()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", Llama3());
        var tokenizer = folder.Load();
        Assert.Equal([Bos], tokenizer.Encode("").Ids);
        Assert.Empty(tokenizer.Encode("", addSpecialTokens: false).Ids);
    }
}
