using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Text.Templates;

/// <summary>
/// Turns caller data (dictionaries, lists, numbers, JSON documents, <see cref="ChatMessage"/>) into the
/// interpreter's Python-like values, copying so a template never sees or changes the caller's objects.
/// </summary>
internal static class ValueConverter
{
    private const int MaxDepth = 100;

    public static object? ToValue(object? value, int depth = 0)
    {
        if (depth > MaxDepth) throw new ArgumentException($"template context nests deeper than {MaxDepth} levels");
        return value switch
        {
            null or string or bool or long or double => value,
            int or short or sbyte or byte or ushort or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
            ulong u => u <= long.MaxValue ? (object)(long)u : (double)u,
            float f => (double)f,
            decimal m => (double)m,
            Half h => (double)h,
            char c => c.ToString(),
            ChatMessage m => Message(m.Role, m.Content),
            JsonElement e => FromJson(e, depth),
            JsonNode n => FromJson(JsonSerializer.SerializeToElement(n), depth),
            IEnumerable<KeyValuePair<string, object?>> pairs => ToDict(pairs, depth),
            IDictionary d => ToDict(d, depth),
            IEnumerable items => items.Cast<object?>().Select(x => ToValue(x, depth + 1)).ToList(),
            _ => throw new ArgumentException($"a template cannot use values of type {value.GetType().Name}"),
        };
    }

    public static OrderedDictionary<string, object?> Message(string role, string content) =>
        new(StringComparer.Ordinal) { ["role"] = role, ["content"] = content };

    private static OrderedDictionary<string, object?> ToDict(IEnumerable<KeyValuePair<string, object?>> pairs, int depth)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs) dict[k] = ToValue(v, depth + 1);
        return dict;
    }

    private static OrderedDictionary<string, object?> ToDict(IDictionary d, int depth)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in d)
        {
            var key = entry.Key as string ?? throw new ArgumentException("template context dictionaries need string keys");
            dict[key] = ToValue(entry.Value, depth + 1);
        }
        return dict;
    }

    private static object? FromJson(JsonElement e, int depth)
    {
        if (depth > MaxDepth) throw new ArgumentException($"template context nests deeper than {MaxDepth} levels");
        return e.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.TryGetInt64(out var l) && !e.GetRawText().Contains('.', StringComparison.Ordinal)
                && !e.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase) ? (object)l : e.GetDouble(),
            JsonValueKind.Array => e.EnumerateArray().Select(x => FromJson(x, depth + 1)).ToList(),
            _ => JsonObject(e, depth),
        };
    }

    private static OrderedDictionary<string, object?> JsonObject(JsonElement e, int depth)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject()) dict[p.Name] = FromJson(p.Value, depth + 1);
        return dict;
    }
}
