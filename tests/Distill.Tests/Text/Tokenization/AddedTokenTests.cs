using System.Text.Json.Nodes;
using Distill.Text.Tokenization;
using static Distill.Tests.Text.ByteLevelFixture;

namespace Distill.Tests.Text;

/// <summary>Added tokens matched in the raw text before normalization; ids by hand from ByteLevelFixture.</summary>
public sealed class AddedTokenTests
{
    private const int Mask = 302, AbWord = 303, Short = 304, Long = 305;

    private static Encoding Encode(JsonObject added, string text)
    {
        JsonArray tokens = [.. SpecialTokens().Select(t => t!.DeepClone()), added];
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2(tokens));
        return folder.Load().Encode(text);
    }

    [Fact]
    public void Lstrip_Should_Swallow_Whitespace_On_The_Left()
    {
        var encoding = Encode(TokenizerFolder.Added(Mask, "<mask>", lstrip: true), "a  <mask>b");
        Assert.Equal([97, Mask, 98], encoding.Ids);
        Assert.Equal([(0, 1), (1, 9), (9, 10)], encoding.Offsets);
    }

    [Fact]
    public void Rstrip_Should_Swallow_Whitespace_On_The_Right()
    {
        var encoding = Encode(TokenizerFolder.Added(Mask, "<mask>", rstrip: true), "a<mask> \nb");
        Assert.Equal([97, Mask, 98], encoding.Ids);
        Assert.Equal([(0, 1), (1, 9), (9, 10)], encoding.Offsets);
    }

    [Fact]
    public void Without_Strip_Whitespace_Should_Stay_In_The_Neighbouring_Text()
    {
        var encoding = Encode(TokenizerFolder.Added(Mask, "<mask>"), "a <mask> b");
        // "a " -> a | Ġ ; " b" -> Ġ b.
        Assert.Equal([97, 32, Mask, 32, 98], encoding.Ids);
    }

    [Fact]
    public void Single_Word_Token_Should_Not_Match_Inside_A_Word()
    {
        var token = TokenizerFolder.Added(AbWord, "ab", special: false, singleWord: true, normalized: false);
        // "ab" at the start matches; inside "cab" it is glued to 'c' and is left to the model: Ġ c a b -> (c,a) -> Ġ ca b.
        Assert.Equal([AbWord, 32, Ca, 98], Encode(token, "ab cab").Ids);
    }

    [Fact]
    public void Longest_Added_Token_Should_Win_At_The_Same_Position()
    {
        JsonArray tokens = [.. SpecialTokens().Select(t => t!.DeepClone()), TokenizerFolder.Added(Short, "<x>"), TokenizerFolder.Added(Long, "<x>y")];
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2(tokens));
        var tokenizer = folder.Load();
        Assert.Equal([Long, Short, 122], tokenizer.Encode("<x>y<x>z").Ids);
    }

    [Fact]
    public void Normalized_Added_Token_Should_Match_The_Normalized_Text()
    {
        // Content "é" (precomposed), normalized: true; input "e" + combining acute is NFC-composed first.
        var json = Llama3(new JsonObject { ["type"] = "NFC" });
        json["added_tokens"]!.AsArray().Add(TokenizerFolder.Added(Mask, "é", special: false, normalized: true));
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        var encoding = folder.Load().Encode("xe\u0301", addSpecialTokens: false);
        Assert.Equal([120, Mask], encoding.Ids);
        Assert.Equal([(0, 1), (1, 3)], encoding.Offsets);
    }

    [Fact]
    public void Special_Flag_Should_Decide_What_Decode_Skips()
    {
        JsonArray tokens = [.. SpecialTokens().Select(t => t!.DeepClone()), TokenizerFolder.Added(Mask, "<tool>", special: false, normalized: false)];
        using var folder = new TokenizerFolder().Write("tokenizer.json", Gpt2(tokens));
        var tokenizer = folder.Load();
        var ids = tokenizer.Encode("<|eot_id|><tool>he").Ids;
        Assert.Equal([Eot, Mask, He], ids);
        Assert.True(tokenizer.IsSpecial(Eot));
        Assert.False(tokenizer.IsSpecial(Mask));
        Assert.False(tokenizer.IsSpecial(He));
        Assert.Equal("<tool>he", tokenizer.Decode(ids, skipSpecialTokens: true));
    }
}
