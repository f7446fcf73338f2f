using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// What Distill uses from tokenizer_config.json (with special_tokens_map.json filling gaps): the
/// special token strings, the chat template, the length limit and Llama's add_bos/add_eos flags.
/// </summary>
internal sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    string? PadToken,
    string? UnkToken,
    string? ChatTemplate,
    int? ModelMaxLength,
    bool? AddBosToken,
    bool? AddEosToken,
    string? TokenizerClass)
{
    public static readonly TokenizerConfig Empty = new(null, null, null, null, null, null, null, null, null);

    public static TokenizerConfig Read(JsonSource source, JsonElement root, JsonElement? specialTokensMap, JsonSource? mapSource)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw source.Error("(root)", "is not a JSON object");
        string? Special(string key) =>
            TokenString(source, root, key) ?? (specialTokensMap is { } map ? TokenString(mapSource!, map, key) : null);
        return new TokenizerConfig(
            Special("bos_token"),
            Special("eos_token"),
            Special("pad_token"),
            Special("unk_token"),
            ReadChatTemplate(source, root),
            ReadMaxLength(source, root),
            root.TryGetProperty("add_bos_token", out _) ? source.OptionalBool(root, "add_bos_token", "", true) : null,
            root.TryGetProperty("add_eos_token", out _) ? source.OptionalBool(root, "add_eos_token", "", false) : null,
            source.OptionalString(root, "tokenizer_class", ""));
    }

    /// <summary>A token given as a plain string or as an AddedToken object <c>{"content": ...}</c>.</summary>
    private static string? TokenString(JsonSource source, JsonElement parent, string key)
    {
        if (!parent.TryGetProperty(key, out var value))
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => source.RequireString(value, "content", key),
            _ => throw source.Error(key, "must be a string, an object with \"content\", or null"),
        };
    }

    /// <summary>A string, or a list of <c>{"name", "template"}</c> from which the "default" one is taken.</summary>
    private static string? ReadChatTemplate(JsonSource source, JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString();
        if (value.ValueKind != JsonValueKind.Array)
            throw source.Error("chat_template", "must be a string or a list of {\"name\", \"template\"}");
        int i = 0;
        foreach (var entry in value.EnumerateArray())
        {
            string path = $"chat_template[{i++}]";
            if (entry.ValueKind != JsonValueKind.Object)
                throw source.Error(path, "is not an object");
            if (source.RequireString(entry, "name", path) == "default")
                return source.RequireString(entry, "template", path);
        }
        return null;
    }

    /// <summary>model_max_length; transformers' "no limit" sentinel (about 1e30) and other huge values become null.</summary>
    private static int? ReadMaxLength(JsonSource source, JsonElement root)
    {
        if (!root.TryGetProperty("model_max_length", out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double length) || length < 1)
            throw source.Error("model_max_length", "is not a positive number");
        return length > int.MaxValue ? null : (int)length;
    }
}
