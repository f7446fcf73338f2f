using System.Text.Json.Nodes;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>A temporary model folder holding tokenizer files written by a test; deleted on dispose.</summary>
internal sealed class TokenizerFolder : IDisposable
{
    public TokenizerFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distill-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public TokenizerFolder Write(string fileName, string content)
    {
        File.WriteAllText(System.IO.Path.Combine(Path, fileName), content);
        return this;
    }

    public TokenizerFolder Write(string fileName, JsonNode json) => Write(fileName, json.ToJsonString());

    public HfTokenizer Load() => HfTokenizer.Load(Path);

    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <summary>An added-token entry as tokenizer.json spells it.</summary>
    public static JsonObject Added(int id, string content, bool special = true, bool lstrip = false,
        bool rstrip = false, bool singleWord = false, bool? normalized = null) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = singleWord,
        ["lstrip"] = lstrip,
        ["rstrip"] = rstrip,
        ["normalized"] = normalized ?? !special,
        ["special"] = special,
    };

    /// <summary>A tokenizer.json document from its parts (null parts are written as JSON null).</summary>
    public static JsonObject TokenizerJson(JsonObject model, JsonNode? normalizer = null, JsonNode? preTokenizer = null,
        JsonNode? postProcessor = null, JsonNode? decoder = null, JsonArray? addedTokens = null) => new()
    {
        ["version"] = "1.0",
        ["truncation"] = null,
        ["padding"] = null,
        ["added_tokens"] = addedTokens ?? [],
        ["normalizer"] = normalizer,
        ["pre_tokenizer"] = preTokenizer,
        ["post_processor"] = postProcessor,
        ["decoder"] = decoder,
        ["model"] = model,
    };

    public static JsonObject Bpe(JsonObject vocab, JsonArray merges, bool byteFallback = false, bool ignoreMerges = false,
        string? unk = null, bool fuseUnk = false) => new()
    {
        ["type"] = "BPE",
        ["dropout"] = null,
        ["unk_token"] = unk,
        ["continuing_subword_prefix"] = null,
        ["end_of_word_suffix"] = null,
        ["fuse_unk"] = fuseUnk,
        ["byte_fallback"] = byteFallback,
        ["ignore_merges"] = ignoreMerges,
        ["vocab"] = vocab,
        ["merges"] = merges,
    };
}
