using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>
/// Our tokenizer against Hugging Face's own (the Rust <c>tokenizers</c> crate, through the Tokenizers.DotNet package):
/// for every fixture tokenizer, thousands of generated strings must give the same ids and decode to the same text.
/// The package's <c>Encode</c> adds the special tokens of the post-processor (<c>add_special_tokens=True</c>) and its
/// <c>Decode</c> skips special tokens, so ours is called the same way.
/// </summary>
public sealed class HuggingFaceDifferentialTests
{
    private const int StringsPerTokenizer = 3000;

    private static string Here([CallerFilePath] string here = "") => Path.GetDirectoryName(here)!;

    public static TheoryData<string> Tokenizers() =>
        ["fixture gpt2", "fixture llama2", "byte-level gpt2", "byte-level llama3", "sentencepiece legacy", "sentencepiece metaspace", "sample teacher"];

    private static JsonNode TokenizerJson(string name) => name switch
    {
        "fixture gpt2" => JsonNode.Parse(File.ReadAllText(Path.Combine(Here(), "Fixtures", "gpt2", "tokenizer.json")))!,
        "fixture llama2" => JsonNode.Parse(File.ReadAllText(Path.Combine(Here(), "Fixtures", "llama2", "tokenizer.json")))!,
        "byte-level gpt2" => WithoutIdGaps(ByteLevelFixture.Gpt2()),
        "byte-level llama3" => WithoutIdGaps(ByteLevelFixture.Llama3()),
        "sentencepiece legacy" => SentencePieceFixture.Legacy(),
        "sentencepiece metaspace" => SentencePieceFixture.Metaspace(),
        "sample teacher" => JsonNode.Parse(File.ReadAllText(Path.Combine(Here(), "..", "..", "..", "..", "samples", "teacher", "tokenizer.json")))!,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // The byte-level fixture numbers its special tokens 300 and 301 after a vocabulary that ends at 276. Hugging Face
    // loads such a file by giving them the next free ids (277, 278) with a warning; ours keeps the ids the file declares,
    // as every real tokenizer file (whose added tokens follow the vocabulary without a gap) gets from both. Unused
    // entries fill the gap here so the two are compared on what real files hold.
    private static JsonNode WithoutIdGaps(JsonObject tokenizer)
    {
        var vocab = tokenizer["model"]!["vocab"]!.AsObject();
        var ids = vocab.Select(p => p.Value!.GetValue<int>()).ToHashSet();
        var firstAdded = tokenizer["added_tokens"]!.AsArray().Min(t => t!["id"]!.GetValue<int>());
        for (var id = 0; id < firstAdded; id++)
            if (!ids.Contains(id)) vocab[$"<unused_{id}>"] = id;
        return tokenizer;
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Generated_Strings_Should_Encode_And_Decode_As_Hugging_Face_Does(string name)
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", TokenizerJson(name));
        var ours = folder.Load();
        using var theirs = new Tokenizers.DotNet.Tokenizer(Path.Combine(folder.Path, "tokenizer.json"));
        var specials = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, "tokenizer.json")))!["added_tokens"]!.AsArray()
            .Select(t => t!["content"]!.GetValue<string>()).ToArray();
        var generator = new TextGenerator(seed: name.Length * 7919 + name[0], specials);   // string.GetHashCode differs per process
        var problems = new List<string>();
        for (var i = 0; i < StringsPerTokenizer && problems.Count < 5; i++)
        {
            var text = generator.Next();
            var expected = theirs.Encode(text).Select(id => (int)id).ToArray();
            var actual = ours.Encode(text, addSpecialTokens: true).Ids;
            if (!expected.SequenceEqual(actual))
            {
                problems.Add($"{JsonSerializer.Serialize(text)}: ids {string.Join(' ', actual)}, Hugging Face {string.Join(' ', expected)}");
                continue;
            }
            var decoded = theirs.Decode([.. expected.Select(id => (uint)id)]);
            if (ours.Decode(actual, skipSpecialTokens: true) is var mine && mine != decoded)
                problems.Add($"{JsonSerializer.Serialize(text)}: decodes to {JsonSerializer.Serialize(mine)}, Hugging Face {JsonSerializer.Serialize(decoded)}");
        }
        Assert.True(problems.Count == 0, $"{name}:\n" + string.Join('\n', problems));
    }

    /// <summary>Seeded strings made of the pieces tokenizers get wrong: scripts, emoji, whitespace runs, digits, code, special-token text.</summary>
    private sealed class TextGenerator(int seed, string[] specials)
    {
        private static readonly string[] Words =
        [
            "the", "The", " cat", "hello", "Führer", "naïve", "café", "Ελληνικά", "русский", "中文字符", "日本語の", "한국어", "עברית", "العربية",
            "हिन्दी", "ไทย", "don't", "I'm", "we'll", "they're", "it's", "ab", "abc", "xyz", "hi", "he", "▁", "ǅ", "ﬁ", "Å", "Å",
        ];

        private static readonly string[] Emoji = ["😀", "😀a", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "🤖", "✅", "🫠", "\U0001F600\U0001F600"];

        private static readonly string[] Spaces = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00A0", "\u3000", "\u2009", "\t\t\n", "\v", "\f"];

        private static readonly string[] Code =
        [
            "if (x) {\n    return y;\n}", "def f(a, b):\n\treturn a+b", "x = [1, 2, 3]", "<div class=\"a\">", "a->b", "i++;", "// TODO",
            "SELECT * FROM t;", "{\"k\": 12.5e-3}", "$HOME/.bashrc", "#include <stdio.h>", "λx.x", "0x1F", "a_b_c", "__init__",
        ];

        private readonly Random _random = new(seed);

        public string Next()
        {
            var text = new StringBuilder();
            var pieces = _random.Next(1, 9);
            for (var i = 0; i < pieces; i++) text.Append(Piece());
            return text.ToString();
        }

        private string Piece() => _random.Next(10) switch
        {
            0 or 1 => Words[_random.Next(Words.Length)],
            2 => Emoji[_random.Next(Emoji.Length)],
            3 or 4 => Spaces[_random.Next(Spaces.Length)],
            5 => string.Concat(Enumerable.Range(0, _random.Next(1, 8)).Select(_ => (char)('0' + _random.Next(10)))),
            6 => Code[_random.Next(Code.Length)],
            7 => specials.Length > 0 ? specials[_random.Next(specials.Length)] : " ",
            8 => new string((char)_random.Next(0x21, 0x7F), _random.Next(1, 4)),
            _ => CodePoint(),
        };

        // Any scalar value (no lone surrogates: they are not text, and UTF-8 marshalling would change them).
        private string CodePoint()
        {
            int value;
            do value = _random.Next(0x20, 0x30000);
            while (value is >= 0xD800 and <= 0xDFFF);
            return char.ConvertFromUtf32(value);
        }
    }
}
