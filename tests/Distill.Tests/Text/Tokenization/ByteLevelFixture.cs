using System.Text.Json.Nodes;
using static Distill.Tests.Text.ByteLevelVocab;

namespace Distill.Tests.Text;

/// <summary>
/// A small byte-level BPE vocabulary shared by the byte-level tests, written as GPT-2-style and
/// Llama-3-style tokenizer folders. Byte b has id b; the tokens below have ids 256 onwards.
/// </summary>
internal static class ByteLevelFixture
{
    public const string Llama3Regex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const int He = 256, SpaceT = 257, SpaceThe = 258, Ca = 259, Cat = 260, SpaceCat = 261, TwoNewlines = 262,
        TwoSpaces = 263, D12 = 264, D123 = 265, D34 = 266, D45 = 267, Ab = 268, Bc = 269, SpaceXyz = 270, Xy = 271,
        EAcute = 272, F09F = 273, F09F98 = 274, Grin = 275, GrinA = 276, Bos = 300, Eot = 301;

    public static JsonObject Vocab() => ByteLevelVocab.Vocab(
        Spell("he"), Spell(" t"), Spell(" the"), Spell("ca"), Spell("cat"), Spell(" cat"), Spell("\n\n"), Spell("  "),
        Spell("12"), Spell("123"), Spell("34"), Spell("45"), Spell("ab"), Spell("bc"), Spell(" xyz"), Spell("xy"),
        Spell("é"), SpellBytes(0xF0, 0x9F), SpellBytes(0xF0, 0x9F, 0x98), Spell("😀"), Spell("😀a"));

    /// <summary>Merge ranks are the positions here; note "b c" (rank 12) outranks "a b" (13) while "ab" has the lower id.</summary>
    public static (string, string)[] MergeList() =>
    [
        (Spell("h"), Spell("e")), (Spell(" "), Spell("t")), (Spell(" t"), Spell("he")), (Spell("c"), Spell("a")),
        (Spell("ca"), Spell("t")), (Spell(" "), Spell("cat")), (Spell("\n"), Spell("\n")), (Spell(" "), Spell(" ")),
        (Spell("1"), Spell("2")), (Spell("3"), Spell("4")), (Spell("12"), Spell("3")), (Spell("4"), Spell("5")),
        (Spell("b"), Spell("c")), (Spell("a"), Spell("b")), (Spell("x"), Spell("y")),
        (SpellBytes(0xC3), SpellBytes(0xA9)), (SpellBytes(0xF0), SpellBytes(0x9F)),
        (SpellBytes(0xF0, 0x9F), SpellBytes(0x98)), (SpellBytes(0xF0, 0x9F, 0x98), SpellBytes(0x80)),
        (Spell("😀"), Spell("a")),
    ];

    public static JsonArray SpecialTokens() =>
        [TokenizerFolder.Added(Bos, "<|begin_of_text|>"), TokenizerFolder.Added(Eot, "<|eot_id|>")];

    public static JsonObject ByteLevelStep(bool addPrefixSpace, bool useRegex, bool trimOffsets = false) => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = addPrefixSpace,
        ["trim_offsets"] = trimOffsets,
        ["use_regex"] = useRegex,
    };

    /// <summary>GPT-2's layout: ByteLevel pre-tokenizer with its built-in regex, no template.</summary>
    public static JsonObject Gpt2(JsonArray? added = null, JsonObject? postProcessor = null, bool pairMerges = false) =>
        TokenizerFolder.TokenizerJson(
            TokenizerFolder.Bpe(Vocab(), pairMerges ? PairMerges(MergeList()) : Merges(MergeList())),
            preTokenizer: ByteLevelStep(false, true),
            postProcessor: postProcessor ?? ByteLevelStep(true, true),
            decoder: ByteLevelStep(true, true),
            addedTokens: added ?? SpecialTokens());

    /// <summary>Llama 3's layout: Split with its regex, ByteLevel without regex, ignore_merges, BOS template.</summary>
    public static JsonObject Llama3(JsonNode? normalizer = null) =>
        TokenizerFolder.TokenizerJson(
            TokenizerFolder.Bpe(Vocab(), Merges(MergeList()), ignoreMerges: true),
            normalizer: normalizer,
            preTokenizer: new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = Llama3Regex },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    ByteLevelStep(false, false, true)),
            },
            postProcessor: new JsonObject
            {
                ["type"] = "Sequence",
                ["processors"] = new JsonArray(ByteLevelStep(true, false), Template("<|begin_of_text|>", Bos)),
            },
            decoder: ByteLevelStep(true, true),
            addedTokens: SpecialTokens());

    /// <summary>TemplateProcessing putting one special token before the sequence.</summary>
    public static JsonObject Template(string token, int id) => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(),
        ["special_tokens"] = new JsonObject
        {
            [token] = new JsonObject { ["id"] = token, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(token) },
        },
    };
}
