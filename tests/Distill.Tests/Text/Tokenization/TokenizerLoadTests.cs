using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>Loading: tokenizer_config.json fields, fingerprint, vocabulary queries and rejection of bad files.</summary>
public sealed class TokenizerLoadTests
{
    [Fact]
    public void Load_Should_Read_Special_Tokens_As_Strings_Or_Objects_And_Fill_Gaps_From_Special_Tokens_Map()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", SentencePieceFixture.Legacy())
            .Write("tokenizer_config.json", """
                {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "unk_token": null, "model_max_length": 1000000000000000019884624838656}
                """)
            .Write("special_tokens_map.json", """{"pad_token": "</s>", "unk_token": {"content": "<unk>"}}""");
        var tokenizer = folder.Load();
        Assert.Equal(("<s>", 1), (tokenizer.BosToken, tokenizer.BosTokenId));
        Assert.Equal(("</s>", 2), (tokenizer.EosToken, tokenizer.EosTokenId));
        Assert.Equal(("</s>", 2), (tokenizer.PadToken, tokenizer.PadTokenId));
        Assert.Equal(("<unk>", 0), (tokenizer.UnkToken, tokenizer.UnkTokenId));
        Assert.Null(tokenizer.ModelMaxLength);
    }

    [Fact]
    public void Load_Should_Take_The_Default_Named_Chat_Template_And_The_Max_Length()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Llama3())
            .Write("tokenizer_config.json", """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
                 "model_max_length": 131072}
                """);
        var tokenizer = folder.Load();
        Assert.Equal("D", tokenizer.ChatTemplate);
        Assert.Equal(131072, tokenizer.ModelMaxLength);
    }

    [Fact]
    public void Load_Should_Read_A_String_Chat_Template()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Llama3())
            .Write("tokenizer_config.json", """{"chat_template": "{{ messages }}"}""");
        Assert.Equal("{{ messages }}", folder.Load().ChatTemplate);
    }

    [Fact]
    public void Fingerprint_Should_Be_Sha256_Of_Tokenizer_Then_Config_Bytes()
    {
        string json = ByteLevelFixture.Llama3().ToJsonString();
        const string config = """{"eos_token": "<|eot_id|>"}""";
        using var folder = new TokenizerFolder().Write("tokenizer.json", json).Write("tokenizer_config.json", config);
        string expected = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json + config)));
        var tokenizer = folder.Load();
        Assert.Equal(expected, tokenizer.Fingerprint);
        Assert.Equal(ByteLevelFixture.Eot, tokenizer.EosTokenId);
    }

    [Fact]
    public void Vocab_Size_Should_Count_Added_Tokens_Outside_The_Model_Vocabulary_Once()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Llama3());
        // 256 bytes + 21 merged tokens + 2 added tokens.
        Assert.Equal(279, folder.Load().VocabSize);
        using var sp = new TokenizerFolder().Write("tokenizer.json", SentencePieceFixture.Legacy());
        // <unk> <s> </s> are both added tokens and model tokens: 3 + 256 + 12.
        Assert.Equal(271, sp.Load().VocabSize);
    }

    [Fact]
    public void Token_And_Id_Lookups_Should_Cover_Model_And_Added_Tokens()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", SentencePieceFixture.Legacy());
        var tokenizer = folder.Load();
        Assert.Equal(SentencePieceFixture.SpaceHi, tokenizer.TokenToId("▁hi"));
        Assert.Equal("<0x0A>", tokenizer.IdToToken(SentencePieceFixture.Byte('\n')));
        Assert.Equal("</s>", tokenizer.IdToToken(2));
        Assert.Null(tokenizer.TokenToId("zzz"));
        Assert.Null(tokenizer.IdToToken(99999));
    }

    [Fact]
    public void Load_Should_Throw_When_Tokenizer_Json_Is_Missing()
    {
        using var folder = new TokenizerFolder();
        var e = Assert.Throws<FileNotFoundException>(folder.Load);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Load_Should_Throw_Naming_The_File_When_Json_Is_Invalid()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", "{\"model\": ");
        var e = Assert.Throws<InvalidDataException>(folder.Load);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    public void Load_Should_Reject_Non_Bpe_Models_Naming_The_Type(string type)
    {
        var json = SentencePieceFixture.Legacy();
        json["model"]!["type"] = type;
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        var e = Assert.Throws<NotSupportedException>(folder.Load);
        Assert.Contains(type, e.Message);
    }

    [Fact]
    public void Load_Should_Reject_Unsupported_Normalizer_Naming_The_Type()
    {
        var json = SentencePieceFixture.Legacy();
        json["normalizer"] = new JsonObject { ["type"] = "BertNormalizer" };
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        var e = Assert.Throws<NotSupportedException>(folder.Load);
        Assert.Contains("BertNormalizer", e.Message);
    }

    [Fact]
    public void Load_Should_Reject_Merges_Of_Tokens_Not_In_The_Vocabulary()
    {
        var json = SentencePieceFixture.Legacy();
        json["model"]!["merges"] = new JsonArray("a b", "x y");
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        var e = Assert.Throws<InvalidDataException>(folder.Load);
        Assert.Contains("model.merges[1]", e.Message);
        Assert.Contains("\"x\"", e.Message);
    }

    [Fact]
    public void Load_Should_Reject_Merge_Lines_That_Are_Not_Two_Tokens()
    {
        var json = SentencePieceFixture.Legacy();
        json["model"]!["merges"] = new JsonArray("a b c");
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        Assert.Contains("model.merges[0]", Assert.Throws<InvalidDataException>(folder.Load).Message);
    }

    [Fact]
    public void Load_Should_Reject_A_Missing_Vocabulary_Naming_The_Key()
    {
        var json = SentencePieceFixture.Legacy();
        json["model"]!.AsObject().Remove("vocab");
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        Assert.Contains("model.vocab", Assert.Throws<InvalidDataException>(folder.Load).Message);
    }

    [Fact]
    public void Load_Should_Reject_A_Regex_DotNet_Cannot_Compile()
    {
        var json = ByteLevelFixture.Llama3();
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\p{Han}+";
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        Assert.Contains("pre_tokenizer.pretokenizers[0].pattern.Regex", Assert.Throws<NotSupportedException>(folder.Load).Message);
    }

    [Fact]
    public void Load_Should_Fall_Back_To_Chat_Template_Jinja_Beside_The_Config()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Llama3())
            .Write("tokenizer_config.json", "{}").Write("chat_template.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
        Assert.Equal("{% for m in messages %}{{ m.content }}{% endfor %}", folder.Load().ChatTemplate);
    }

    [Theory]
    [InlineData("pre_tokenizer", "BertPreTokenizer")]
    [InlineData("decoder", "WordPiece")]
    [InlineData("post_processor", "RobertaProcessing")]
    public void Load_Should_Reject_Unsupported_Components_Naming_The_Type(string component, string type)
    {
        var json = ByteLevelFixture.Gpt2();
        json[component] = new JsonObject { ["type"] = type };
        using var folder = new TokenizerFolder().Write("tokenizer.json", json);
        Assert.Contains(type, Assert.Throws<NotSupportedException>(folder.Load).Message);
    }

    [Fact]
    public void Load_Should_Reject_An_Invalid_Tokenizer_Config_Naming_It()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Gpt2())
            .Write("tokenizer_config.json", """{"bos_token": 5}""");
        var e = Assert.Throws<InvalidDataException>(folder.Load);
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("bos_token", e.Message);
    }
}
