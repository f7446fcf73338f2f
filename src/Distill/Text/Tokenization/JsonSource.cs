using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// Typed reads from one JSON file that fail with an <see cref="InvalidDataException"/> naming the
/// file and the key path, so a broken tokenizer folder says exactly what is wrong.
/// </summary>
internal sealed class JsonSource(string file)
{
    public string File { get; } = file;

    public InvalidDataException Error(string path, string reason) => new($"{File}: '{path}' {reason}");

    public static JsonDocument Parse(string file, byte[] bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: invalid JSON ({e.Message})", e);
        }
    }

    public JsonElement RequireObject(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Object)
            throw Error(Join(path, key), "is missing or not an object");
        return value;
    }

    public JsonElement? OptionalObject(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(Join(path, key), "is not an object");
        return value;
    }

    public JsonElement RequireArray(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Array)
            throw Error(Join(path, key), "is missing or not an array");
        return value;
    }

    public string RequireString(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String)
            throw Error(Join(path, key), "is missing or not a string");
        return value.GetString()!;
    }

    public string? OptionalString(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String)
            throw Error(Join(path, key), "is not a string");
        return value.GetString();
    }

    public bool OptionalBool(JsonElement parent, string key, string path, bool fallback)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(Join(path, key), "is not a boolean"),
        };
    }

    public int RequireInt(JsonElement parent, string key, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || !value.TryGetInt32(out int result))
            throw Error(Join(path, key), "is missing or not a 32-bit integer");
        return result;
    }

    public int OptionalInt(JsonElement parent, string key, string path, int fallback)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return fallback;
        if (!value.TryGetInt32(out int result))
            throw Error(Join(path, key), "is not a 32-bit integer");
        return result;
    }

    /// <summary>The single character of a string field such as Metaspace's replacement.</summary>
    public string RequireSingleCharacter(JsonElement parent, string key, string path)
    {
        string s = RequireString(parent, key, path);
        bool single = s.Length == 1 || (s.Length == 2 && char.IsSurrogatePair(s[0], s[1]));
        if (!single)
            throw Error(Join(path, key), "must be exactly one character");
        return s;
    }

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
