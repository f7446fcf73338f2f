using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Models;

/// <summary>Summarises a Hugging Face model folder from its JSON files and safetensors headers, without loading weights.</summary>
public static class HfModelInspector
{
    private static readonly string[] Roles = ["bos", "eos", "pad", "unk"];

    /// <summary>
    /// Reads <paramref name="dir"/>'s config, weight headers and special-token declarations, and makes the checks loading
    /// would make (every expected tensor present with its shape, none unexpected; special-token ids inside the
    /// vocabulary), so a folder that cannot load is never shown as healthy.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad config, weight headers, tensors or special-token ids, naming the file.</exception>
    /// <exception cref="NotSupportedException">An architecture Distill does not implement.</exception>
    public static ModelSummary Inspect(string dir)
    {
        var config = LlamaConfig.Load(Path.Combine(dir, HfModelFolder.ConfigFile));
        var (count, dtypes, files) = WeightStatistics(dir, config);
        var specialTokens = SpecialTokens(dir, config);
        foreach (var token in specialTokens)
            foreach (var id in token.Ids ?? [])
                if (id < 0 || id >= config.VocabSize)
                    throw new InvalidDataException($"{Path.Combine(dir, token.Source)}: the {token.Role} token id {id} is outside the vocabulary of {config.VocabSize} (config.json vocab_size)");
        return new ModelSummary
        {
            Directory = Path.GetFullPath(dir),
            Architecture = config.Architectures is [var a] ? a : config.Family + "ForCausalLM",
            ModelType = config.ModelType,
            ParameterCount = count,
            ConfigDtype = config.DeclaredDType,
            WeightDtypes = dtypes,
            WeightFiles = files,
            VocabSize = config.VocabSize,
            Layers = config.NumHiddenLayers,
            HiddenSize = config.HiddenSize,
            IntermediateSize = config.IntermediateSize,
            AttentionHeads = config.NumAttentionHeads,
            KeyValueHeads = config.KeyValueHeads,
            HeadDim = config.HeadDimension,
            TiedEmbeddings = config.TieWordEmbeddings,
            MaxPositionEmbeddings = config.MaxPositionEmbeddings,
            RopeTheta = config.EffectiveRopeTheta,
            RopeScaling = config.EffectiveRopeScaling?.Kind ?? "default",
            SpecialTokens = specialTokens,
            StudentInit = Models.StudentInit.Describe(config),
        };
    }

    private static (long? Count, IReadOnlyList<string> DTypes, int Files) WeightStatistics(string dir, LlamaConfig config)
    {
        var tied = config.TieWordEmbeddings;
        var hasWeights = File.Exists(Path.Combine(dir, HfWeights.SingleFile)) || File.Exists(Path.Combine(dir, HfWeights.IndexFile));
        if (!hasWeights) return (null, [], 0);
        using var weights = HfWeights.Open(dir);
        weights.Check(LlamaStateLayout.Expected(config), tied);
        var kept = weights.Tensors.Where(t => !HfWeights.IsIgnorable(t.Info.Name, tied)).ToList();
        var dtypes = kept.Select(t => t.Info.DType.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();
        return (kept.Sum(t => t.Info.ElementCount), dtypes, kept.Select(t => t.File).Distinct().Count());
    }

    private static List<SpecialToken> SpecialTokens(string dir, LlamaConfig config)
    {
        var tokens = new List<SpecialToken>();
        foreach (var role in Roles)
        {
            var fromConfig = role switch { "bos" => config.BosTokenId, "eos" => config.EosTokenId, "pad" => config.PadTokenId, _ => null };
            if (fromConfig is not null) tokens.Add(new SpecialToken(role, HfModelFolder.ConfigFile, fromConfig, null));
        }
        var generation = ReadJson(Path.Combine(dir, HfModelFolder.GenerationConfigFile));
        foreach (var role in Roles)
        {
            if (generation?[role + "_token_id"] is { } node && TokenIds(node) is { } ids)
                tokens.Add(new SpecialToken(role, HfModelFolder.GenerationConfigFile, ids, null));
        }
        var tokenizerConfig = ReadJson(Path.Combine(dir, "tokenizer_config.json"));
        if (tokenizerConfig is null) return tokens;
        var addedTokens = AddedTokens(Path.Combine(dir, "tokenizer.json"));
        foreach (var role in Roles)
        {
            var text = tokenizerConfig[role + "_token"] switch
            {
                JsonValue v when v.TryGetValue(out string? s) => s,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
                _ => null,
            };
            if (text is null) continue;
            IReadOnlyList<int>? resolved = addedTokens.TryGetValue(text, out var id) ? [id] : null;
            tokens.Add(new SpecialToken(role, "tokenizer_config.json", resolved, text));
        }
        return tokens;
    }

    private static IReadOnlyList<int>? TokenIds(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue(out int id)) return [id];
        if (node is JsonArray a && a.All(n => n is JsonValue e && e.TryGetValue(out int _)))
            return a.Select(n => n!.GetValue<int>()).ToList();
        return null;
    }

    /// <summary>tokenizer.json's added_tokens as text → id, to show ids for tokenizer_config's token texts.</summary>
    private static Dictionary<string, int> AddedTokens(string path)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!File.Exists(path)) return result;
        using var stream = File.OpenRead(path);
        using var doc = ParseOrThrow(path, () => JsonDocument.Parse(stream));
        if (!doc.RootElement.TryGetProperty("added_tokens", out var added) || added.ValueKind != JsonValueKind.Array) return result;
        foreach (var token in added.EnumerateArray())
        {
            if (token.ValueKind == JsonValueKind.Object
                && token.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                && token.TryGetProperty("id", out var id) && id.TryGetInt32(out var value))
                result.TryAdd(content.GetString()!, value);
        }
        return result;
    }

    private static JsonObject? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        return ParseOrThrow(path, () => JsonNode.Parse(File.ReadAllText(path)) as JsonObject)
            ?? throw new InvalidDataException($"{path}: expected a JSON object");
    }

    private static T ParseOrThrow<T>(string path, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }
}
