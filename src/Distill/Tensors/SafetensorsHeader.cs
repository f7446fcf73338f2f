using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace Distill.Tensors;

/// <summary>
/// The validated JSON header of a safetensors file. Applies Hugging Face's reader rules (dtype, shape × element size
/// = byte span, entries sorted by offset must tile the data buffer exactly from 0 to its end) plus stricter ones:
/// duplicate keys, unknown entry fields and non-string metadata are rejected instead of silently accepted.
/// </summary>
internal sealed record SafetensorsHeader(IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Hugging Face's cap: a hostile length must never make us allocate more than this.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Parses and validates <paramref name="json"/>; <paramref name="bufferLength"/> is the size of the data buffer that follows it.</summary>
    public static SafetensorsHeader Parse(string path, ReadOnlyMemory<byte> json, long bufferLength)
    {
        if (!Utf8.IsValid(json.Span)) throw Error(path, null, "header is not valid UTF-8");
        using var doc = ParseJson(path, json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Error(path, null, $"header must be a JSON object, got {root.ValueKind}");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensorInfo>();
        IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
        foreach (var entry in root.EnumerateObject())
        {
            if (!seen.Add(entry.Name)) throw Error(path, entry.Name, "duplicate key in header");
            if (entry.Name == MetadataKey) metadata = ParseMetadata(path, entry.Value);
            else tensors.Add(ParseEntry(path, entry.Name, entry.Value, bufferLength));
        }

        // Stable sort: empty tensors sharing an offset keep header order.
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToArray();
        CheckCoverage(path, ordered, bufferLength);
        return new SafetensorsHeader(ordered, metadata);
    }

    /// <summary>
    /// The header length in the file's first 8 bytes (<paramref name="prefix"/>, unsigned little-endian), checked against
    /// <see cref="MaxHeaderBytes"/> and the file's length: the one reading of it, for the reader and for fingerprints.
    /// </summary>
    public static long CheckLength(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes) throw Error(path, null, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        if (8 + (long)n > fileLength) throw Error(path, null, $"header length {n} runs past the end of the {fileLength}-byte file");
        return (long)n;
    }

    // A hostile header can hold a 50 MB key: messages quote at most this much of a name or a reason.
    private const int MaxQuotedChars = 200;

    /// <summary>The one error shape of the reader: file, then tensor (or key) when one applies, then the reason; both cut to a short prefix.</summary>
    public static InvalidDataException Error(string path, string? tensor, string reason) =>
        new(tensor is null ? $"safetensors file '{path}': {Cut(reason)}" : $"safetensors file '{path}', tensor '{Cut(tensor)}': {Cut(reason)}");

    private static string Cut(string text) => text.Length <= MaxQuotedChars ? text : text[..MaxQuotedChars] + "…";

    private static JsonDocument ParseJson(string path, ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw Error(path, null, $"header is not valid JSON ({e.Message})");
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // Hugging Face reads __metadata__ as an optional map, so an explicit null means "none".
        if (value.ValueKind == JsonValueKind.Null) return metadata;
        if (value.ValueKind != JsonValueKind.Object) throw Error(path, MetadataKey, $"must be an object of strings, got {value.ValueKind}");
        foreach (var kv in value.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
                throw Error(path, MetadataKey, $"key '{kv.Name}' must map to a string, got {kv.Value.ValueKind}");
            if (!metadata.TryAdd(kv.Name, kv.Value.GetString()!))
                throw Error(path, MetadataKey, $"duplicate key '{kv.Name}'");
        }
        return metadata;
    }

    private static SafetensorsTensorInfo ParseEntry(string path, string name, JsonElement value, long bufferLength)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Error(path, name, $"entry must be a JSON object, got {value.ValueKind}");
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var field in value.EnumerateObject())
        {
            if (field.Name is not ("dtype" or "shape" or "data_offsets"))
                throw Error(path, name, $"unknown field '{field.Name}' (expected exactly dtype, shape, data_offsets)");
            if (!fields.TryAdd(field.Name, field.Value)) throw Error(path, name, $"duplicate field '{field.Name}'");
        }
        JsonElement Field(string key) => fields.TryGetValue(key, out var v) ? v : throw Error(path, name, $"missing field '{key}'");

        var dtype = ParseDType(path, name, Field("dtype"));
        var shape = ParseLongs(path, name, "shape", Field("shape"));
        var offsets = ParseLongs(path, name, "data_offsets", Field("data_offsets"));
        if (offsets.Length != 2) throw Error(path, name, $"data_offsets must be [begin, end], got {offsets.Length} numbers");

        var info = new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
        CheckExtent(path, info, bufferLength);
        return info;
    }

    private static SafetensorsDType ParseDType(string path, string name, JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.String) throw Error(path, name, $"dtype must be a string, got {json.ValueKind}");
        var text = json.GetString()!;
        return DTypes.TryParse(text, out var dtype)
            ? dtype
            : throw Error(path, name, $"unknown dtype '{text}' (expected one of {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");
    }

    private static long[] ParseLongs(string path, string name, string field, JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Array) throw Error(path, name, $"{field} must be an array, got {json.ValueKind}");
        var values = new long[json.GetArrayLength()];
        var i = 0;
        foreach (var item in json.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
                throw Error(path, name, $"{field}[{i}] must be a non-negative integer, got {item.GetRawText()}");
            values[i++] = v;
        }
        return values;
    }

    private static void CheckExtent(string path, SafetensorsTensorInfo info, long bufferLength)
    {
        var (name, begin, end) = (info.Name, info.Begin, info.End);
        if (begin > end) throw Error(path, name, $"data_offsets [{begin}, {end}] begin after end");
        if (end > bufferLength)
            throw Error(path, name, $"data_offsets [{begin}, {end}] run past the end of the data buffer ({bufferLength} bytes; file truncated?)");

        long expected;
        try
        {
            expected = checked(info.ElementCount * DTypes.ElementSize(info.DType));
        }
        catch (OverflowException)
        {
            throw Error(path, name, $"shape [{string.Join(", ", info.Shape)}] overflows a 64-bit byte count");
        }
        if (expected != end - begin)
            throw Error(path, name, $"shape [{string.Join(", ", info.Shape)}] of {info.DType} needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}");
    }

    private static void CheckCoverage(string path, SafetensorsTensorInfo[] ordered, long bufferLength)
    {
        long covered = 0;
        string? previous = null;
        foreach (var t in ordered)
        {
            if (t.Begin < covered)
                throw Error(path, t.Name, $"data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous}', which ends at {covered}");
            if (t.Begin > covered)
                throw Error(path, t.Name, $"{t.Begin - covered} unused bytes before data_offsets [{t.Begin}, {t.End}] ({(previous is null ? "at the start of the buffer" : $"after tensor '{previous}'")}); tensors must cover the buffer contiguously");
            covered = t.End;
            previous = t.Name;
        }
        if (covered != bufferLength)
            throw Error(path, previous, $"{bufferLength - covered} bytes after the last tensor's data; tensors must cover the buffer exactly ({bufferLength} bytes)");
    }
}
