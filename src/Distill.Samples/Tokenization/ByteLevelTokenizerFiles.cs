using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// Writes a trained byte-level vocabulary in two layouts that must encode alike: a Hugging Face tokenizer.json
/// laid out like Llama 3's (Split with the Llama 3 regex, ByteLevel without regex, <c>ignore_merges</c>) and
/// a tiktoken rank file (base64 bytes and rank per line). As in transformers' tiktoken converter, the merges
/// are every split of a token into two tokens, ranked by the merged token's id: then "lowest-ranked merge
/// first" and tiktoken's "lowest-ranked adjacent concatenation first" pick the same merges.
/// </summary>
public static class ByteLevelTokenizerFiles
{
    /// <summary>Llama 3's special tokens, the default for <see cref="WriteTokenizerJson"/>.</summary>
    public static readonly IReadOnlyList<string> Llama3SpecialTokens = ["<|begin_of_text|>", "<|end_of_text|>"];

    /// <summary>Writes <paramref name="folder"/>/tokenizer.json; returns the number of merges written.</summary>
    /// <param name="folder">An existing folder.</param>
    /// <param name="tokens">Token byte strings by id, as <see cref="BpeTrainer.Train"/> returns them.</param>
    /// <param name="specialTokens">Special tokens, given ids just past the vocabulary in this order (default Llama 3's).</param>
    /// <param name="pattern">The Split pre-tokenizer's regex, the one the tokens were trained with (default <see cref="BpeTrainer.Llama3Regex"/>).</param>
    public static int WriteTokenizerJson(string folder, List<byte[]> tokens, IReadOnlyList<string>? specialTokens = null, string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        using var stream = File.Create(Path.Combine(folder, "tokenizer.json"));
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        WriteAddedTokens(json, SpecialTokens(tokens.Count, specialTokens ?? Llama3SpecialTokens));
        json.WriteNull("normalizer");
        WritePreTokenizer(json, pattern ?? BpeTrainer.Llama3Regex);
        WriteByteLevel(json, "post_processor", addPrefixSpace: true, trimOffsets: false, useRegex: true);
        WriteByteLevel(json, "decoder", addPrefixSpace: true, trimOffsets: true, useRegex: true);
        int merges = WriteModel(json, tokens);
        json.WriteEndObject();
        return merges;
    }

    private static void WriteAddedTokens(Utf8JsonWriter json, (int Id, string Content)[] specials)
    {
        json.WriteStartArray("added_tokens");
        foreach (var (id, content) in specials)
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("content", content);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static int WriteModel(Utf8JsonWriter json, List<byte[]> tokens)
    {
        var byteToChar = ByteLevelAlphabet.ByteToChar;
        string Spell(byte[] bytes) => string.Concat(bytes.Select(b => byteToChar[b]));
        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteNull("continuing_subword_prefix");
        json.WriteNull("end_of_word_suffix");
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteBoolean("ignore_merges", true);
        json.WriteStartObject("vocab");
        for (int id = 0; id < tokens.Count; id++)
            json.WriteNumber(Spell(tokens[id]), id);
        json.WriteEndObject();
        var merges = Merges(tokens);
        json.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            json.WriteStartArray();
            json.WriteStringValue(Spell(tokens[left]));
            json.WriteStringValue(Spell(tokens[right]));
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        return merges.Count;
    }

    /// <summary>tiktoken's rank file: one "base64(bytes) rank" line per token.</summary>
    public static byte[] TiktokenRanks(List<byte[]> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var text = new System.Text.StringBuilder();
        for (int id = 0; id < tokens.Count; id++)
            text.Append(Convert.ToBase64String(tokens[id])).Append(' ').Append(id).Append('\n');
        return System.Text.Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The special tokens, with ids just past the trained vocabulary (as Llama 3 places them).</summary>
    public static (int Id, string Content)[] SpecialTokens(int vocabCount, IReadOnlyList<string>? specialTokens = null) =>
        [.. (specialTokens ?? Llama3SpecialTokens).Select((content, i) => (vocabCount + i, content))];

    private static List<(int Left, int Right)> Merges(List<byte[]> tokens)
    {
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
            idOf[BpeTrainer.Key(tokens[id])] = id;
        var merges = new List<(int, int)>();
        var splits = new List<(int, int)>();
        for (int id = 256; id < tokens.Count; id++)
        {
            splits.Clear();
            byte[] t = tokens[id];
            for (int i = 1; i < t.Length; i++)
            {
                if (idOf.TryGetValue(BpeTrainer.Key(t[..i]), out int left) && idOf.TryGetValue(BpeTrainer.Key(t[i..]), out int right))
                    splits.Add((left, right));
            }
            splits.Sort();
            merges.AddRange(splits);
        }
        return merges;
    }

    private static void WritePreTokenizer(Utf8JsonWriter json, string pattern)
    {
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("pretokenizers");
        json.WriteStartObject();
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", pattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Isolated");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();
        WriteByteLevel(json, null, addPrefixSpace: false, trimOffsets: true, useRegex: false);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string? name, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        if (name is null) json.WriteStartObject();
        else json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", trimOffsets);
        json.WriteBoolean("use_regex", useRegex);
        json.WriteEndObject();
    }
}
