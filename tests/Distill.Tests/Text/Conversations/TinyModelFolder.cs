using System.Text.Json.Nodes;

namespace Distill.Tests.Text.Conversations;

/// <summary>
/// A model folder holding a tiny byte-level BPE tokenizer.json (GPT-2 byte alphabet as ids 0..255, a
/// handful of merges, chat markers as added special tokens) and a tokenizer_config.json; deleted on dispose.
/// </summary>
internal sealed class TinyModelFolder : IDisposable
{
    public static readonly string[] Specials =
    [
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eot_id|>", "<s>", "</s>", "<|stop|>",
    ];

    private static readonly string[] Merges = ["H e", "l l", "He ll", "Hell o", "Ġ P", "ĠP o", "o n", "ĠPo n", "ĠPon g", "P o", "Po n", "Pon g"];

    public const int FirstSpecialId = 400;

    public TinyModelFolder(string? chatTemplate = null, string? bos = null, string? eos = null, bool postProcessorAddsBos = false,
        string? generationConfig = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distill-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        File.WriteAllText(System.IO.Path.Combine(Path, "tokenizer.json"), TokenizerJson(postProcessorAddsBos ? bos : null).ToJsonString());
        var config = new JsonObject { ["bos_token"] = bos, ["eos_token"] = eos, ["chat_template"] = chatTemplate };
        File.WriteAllText(System.IO.Path.Combine(Path, "tokenizer_config.json"), config.ToJsonString());
        if (generationConfig is not null)
            File.WriteAllText(System.IO.Path.Combine(Path, "generation_config.json"), generationConfig);
    }

    public string Path { get; }

    public static int IdOf(string special) => FirstSpecialId + Array.IndexOf(Specials, special);

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private static JsonObject TokenizerJson(string? bosAddedByPostProcessor)
    {
        var vocab = new JsonObject();
        var alphabet = ByteAlphabet();
        for (var b = 0; b < 256; b++)
            vocab[alphabet[b].ToString()] = b;
        var next = 256;
        foreach (var merge in Merges)
            vocab[merge.Replace(" ", "", StringComparison.Ordinal)] = next++;
        var added = new JsonArray();
        for (var i = 0; i < Specials.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = FirstSpecialId + i, ["content"] = Specials[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }
        JsonNode postProcessor = bosAddedByPostProcessor is null
            ? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true }
            : new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special(bosAddedByPostProcessor), Sequence("A")),
                ["pair"] = new JsonArray(Sequence("A"), Sequence("B")),
                ["special_tokens"] = new JsonObject
                {
                    [bosAddedByPostProcessor] = new JsonObject
                    {
                        ["id"] = bosAddedByPostProcessor,
                        ["ids"] = new JsonArray(IdOf(bosAddedByPostProcessor)),
                        ["tokens"] = new JsonArray(bosAddedByPostProcessor),
                    },
                },
            };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = postProcessor,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode)m)]),
            },
        };
    }

    private static JsonObject Special(string id) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };

    private static JsonObject Sequence(string id) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };

    /// <summary>GPT-2's printable stand-ins for bytes: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.</summary>
    private static char[] ByteAlphabet()
    {
        var map = new char[256];
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }
}
