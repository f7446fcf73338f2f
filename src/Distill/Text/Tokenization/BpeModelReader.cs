using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>Reads tokenizer.json's <c>model</c> object into a <see cref="BpeModel"/>, checking every merge against the vocabulary.</summary>
internal static class BpeModelReader
{
    public static BpeModel Read(JsonSource source, JsonElement root)
    {
        var model = source.RequireObject(root, "model", "");
        string type = source.OptionalString(model, "type", "model")
            ?? (model.TryGetProperty("merges", out _) ? "BPE" : "(untyped)");
        if (type != "BPE")
            throw new NotSupportedException($"{source.File}: model type '{type}' at 'model.type' is not supported; only BPE models are");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
            throw new NotSupportedException($"{source.File}: 'model.dropout' = {dropout.GetDouble()} is not supported (BPE dropout makes encoding random)");
        var options = new BpeOptions(
            source.OptionalString(model, "unk_token", "model"),
            NullIfEmpty(source.OptionalString(model, "continuing_subword_prefix", "model")),
            NullIfEmpty(source.OptionalString(model, "end_of_word_suffix", "model")),
            source.OptionalBool(model, "fuse_unk", "model", false),
            source.OptionalBool(model, "byte_fallback", "model", false),
            source.OptionalBool(model, "ignore_merges", "model", false));
        var vocab = ReadVocab(source, model);
        var merges = ReadMerges(source, model, vocab, options.ContinuingSubwordPrefix);
        return new BpeModel(vocab, merges, options);
    }

    /// <summary>GPT-2's file spells "no prefix" as ""; treating it as absent keeps the per-character fast path.</summary>
    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static Dictionary<string, int> ReadVocab(JsonSource source, JsonElement model)
    {
        var element = source.RequireObject(model, "vocab", "model");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out int id) || id < 0)
                throw source.Error($"model.vocab[\"{entry.Name}\"]", "is not a non-negative 32-bit integer id");
            vocab[entry.Name] = id;
        }
        return vocab;
    }

    /// <summary>
    /// Merges as "left right" strings or ["left", "right"] pairs; rank is the position in the list
    /// (a pair listed twice keeps its later rank, as Hugging Face's map insertion does).
    /// </summary>
    private static Dictionary<long, (int Rank, int NewId)> ReadMerges(JsonSource source, JsonElement model,
        Dictionary<string, int> vocab, string? prefix)
    {
        var merges = new Dictionary<long, (int Rank, int NewId)>();
        if (!model.TryGetProperty("merges", out var element) || element.ValueKind == JsonValueKind.Null)
            return merges;
        if (element.ValueKind != JsonValueKind.Array)
            throw source.Error("model.merges", "is not an array");
        int rank = 0, index = 0;
        foreach (var item in element.EnumerateArray())
        {
            string path = $"model.merges[{index++}]";
            var (left, right) = ParseMerge(source, item, path);
            if (left is null)
                continue;
            int leftId = Lookup(source, vocab, left, path);
            int rightId = Lookup(source, vocab, right!, path);
            string rightPart = prefix is not null && right!.StartsWith(prefix, StringComparison.Ordinal) ? right[prefix.Length..] : right!;
            int newId = Lookup(source, vocab, left + rightPart, path);
            merges[BpeModel.PairKey(leftId, rightId)] = (rank++, newId);
        }
        return merges;
    }

    private static (string? Left, string? Right) ParseMerge(JsonSource source, JsonElement item, string path)
    {
        if (item.ValueKind == JsonValueKind.String)
        {
            string line = item.GetString()!;
            if (line.StartsWith("#version", StringComparison.Ordinal))
                return (null, null);
            string[] parts = line.Split(' ');
            if (parts.Length != 2)
                throw source.Error(path, $"\"{line}\" is not two tokens separated by one space");
            return (parts[0], parts[1]);
        }
        if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2
            && item[0].ValueKind == JsonValueKind.String && item[1].ValueKind == JsonValueKind.String)
        {
            return (item[0].GetString(), item[1].GetString());
        }
        throw source.Error(path, "must be a \"left right\" string or a [\"left\", \"right\"] pair");
    }

    private static int Lookup(JsonSource source, Dictionary<string, int> vocab, string token, string path) =>
        vocab.TryGetValue(token, out int id) ? id : throw source.Error(path, $"refers to token \"{token}\" which is not in model.vocab");
}
