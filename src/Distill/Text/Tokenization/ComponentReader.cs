using System.Text;
using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// Builds normalizers, pre-tokenizers, post-processors and decoders from their tokenizer.json
/// objects. Unknown component types raise <see cref="NotSupportedException"/> naming the type.
/// </summary>
internal sealed class ComponentReader(JsonSource source, Func<string, int?> tokenToId)
{
    public INormalizer? Normalizer(JsonElement? element, string path)
    {
        if (element is not { } e)
            return null;
        string type = source.RequireString(e, "type", path);
        return type switch
        {
            "Sequence" => new SequenceNormalizer(Items(e, "normalizers", path, Normalizer)),
            "Prepend" => new PrependNormalizer(source.RequireString(e, "prepend", path)),
            "Replace" => ReplaceNormalizer(e, path),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(source.OptionalBool(e, "strip_left", path, true),
                source.OptionalBool(e, "strip_right", path, true)),
            _ => throw Unsupported("normalizer", type, path),
        };
    }

    public IPreTokenizer? PreTokenizer(JsonElement? element, string path)
    {
        if (element is not { } e)
            return null;
        string type = source.RequireString(e, "type", path);
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(Items(e, "pretokenizers", path, PreTokenizer)),
            "Split" => new SplitPreTokenizer(Pattern(e, path).Pattern, Behavior(e, path),
                source.OptionalBool(e, "invert", path, false)),
            "ByteLevel" => new ByteLevelPreTokenizer(source.OptionalBool(e, "add_prefix_space", path, true),
                source.OptionalBool(e, "use_regex", path, true)),
            "Metaspace" => new MetaspacePreTokenizer(source.RequireSingleCharacter(e, "replacement", path),
                PrependScheme(e, path), source.OptionalBool(e, "split", path, true)),
            "Digits" => new DigitsPreTokenizer(source.OptionalBool(e, "individual_digits", path, false)),
            _ => throw Unsupported("pre-tokenizer", type, path),
        };
    }

    public IPostProcessor? PostProcessor(JsonElement? element, string path)
    {
        if (element is not { } e)
            return null;
        string type = source.RequireString(e, "type", path);
        return type switch
        {
            "Sequence" => new SequencePostProcessor(Items(e, "processors", path, PostProcessor)),
            "ByteLevel" => new ByteLevelPostProcessor(source.OptionalBool(e, "trim_offsets", path, true),
                source.OptionalBool(e, "add_prefix_space", path, true)),
            "TemplateProcessing" => Template(e, path),
            _ => throw Unsupported("post-processor", type, path),
        };
    }

    public IDecoder? Decoder(JsonElement? element, string path)
    {
        if (element is not { } e)
            return null;
        string type = source.RequireString(e, "type", path);
        return type switch
        {
            "Sequence" => new SequenceDecoder(Items(e, "decoders", path, Decoder)),
            "ByteLevel" => new ByteLevelDecoder(),
            "Replace" => new ReplaceDecoder(Pattern(e, path).Pattern, source.RequireString(e, "content", path)),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(source.RequireSingleCharacter(e, "content", path),
                source.OptionalInt(e, "start", path, 0), source.OptionalInt(e, "stop", path, 0)),
            "Metaspace" => new MetaspaceDecoder(source.RequireSingleCharacter(e, "replacement", path),
                PrependScheme(e, path)),
            _ => throw Unsupported("decoder", type, path),
        };
    }

    private NotSupportedException Unsupported(string kind, string type, string path) =>
        new($"{source.File}: {kind} type '{type}' at '{path}' is not supported (supported: byte-level and SentencePiece-style BPE pipelines)");

    private List<T> Items<T>(JsonElement e, string key, string path, Func<JsonElement?, string, T?> read) where T : class
    {
        var items = new List<T>();
        int i = 0;
        foreach (var item in source.RequireArray(e, key, path).EnumerateArray())
        {
            string itemPath = $"{JsonSource.Join(path, key)}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw source.Error(itemPath, "is not an object");
            items.Add(read(item, itemPath)!);
        }
        return items;
    }

    private ReplaceNormalizer ReplaceNormalizer(JsonElement e, string path)
    {
        var (pattern, literal) = Pattern(e, path);
        return new ReplaceNormalizer(pattern, literal, source.RequireString(e, "content", path));
    }

    /// <summary>Reads <c>"pattern": {"String": ...}</c> or <c>{"Regex": ...}</c>.</summary>
    private (ISplitPattern Pattern, string? Literal) Pattern(JsonElement e, string path)
    {
        var pattern = source.RequireObject(e, "pattern", path);
        string patternPath = JsonSource.Join(path, "pattern");
        if (source.OptionalString(pattern, "String", patternPath) is { } literal)
            return (new LiteralPattern(literal), literal);
        if (source.OptionalString(pattern, "Regex", patternPath) is { } regex)
            return (new CodePointRegex(regex, source, JsonSource.Join(patternPath, "Regex")), null);
        throw source.Error(patternPath, "must hold a \"String\" or a \"Regex\"");
    }

    private SplitBehavior Behavior(JsonElement e, string path)
    {
        string behavior = source.RequireString(e, "behavior", path);
        return behavior switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            _ => throw source.Error(JsonSource.Join(path, "behavior"), $"has unknown value '{behavior}'"),
        };
    }

    /// <summary>prepend_scheme, or the older add_prefix_space flag (false means "never").</summary>
    private MetaspacePrependScheme PrependScheme(JsonElement e, string path)
    {
        string scheme = source.OptionalString(e, "prepend_scheme", path) ?? "always";
        var parsed = scheme switch
        {
            "always" => MetaspacePrependScheme.Always,
            "first" => MetaspacePrependScheme.First,
            "never" => MetaspacePrependScheme.Never,
            _ => throw source.Error(JsonSource.Join(path, "prepend_scheme"), $"has unknown value '{scheme}'"),
        };
        return source.OptionalBool(e, "add_prefix_space", path, true) ? parsed : MetaspacePrependScheme.Never;
    }

    private TemplatePostProcessor Template(JsonElement e, string path)
    {
        var specials = source.OptionalObject(e, "special_tokens", path);
        var pieces = new List<int[]?>();
        int i = 0;
        foreach (var piece in source.RequireArray(e, "single", path).EnumerateArray())
        {
            string piecePath = $"{path}.single[{i++}]";
            if (piece.ValueKind == JsonValueKind.Object && piece.TryGetProperty("Sequence", out _))
            {
                pieces.Add(null);
                continue;
            }
            if (piece.ValueKind != JsonValueKind.Object || !piece.TryGetProperty("SpecialToken", out var special))
                throw source.Error(piecePath, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            string name = source.RequireString(special, "id", $"{piecePath}.SpecialToken");
            pieces.Add(SpecialIds(specials, name, path));
        }
        return new TemplatePostProcessor(pieces);
    }

    private int[] SpecialIds(JsonElement? specials, string name, string path)
    {
        string specialPath = $"{path}.special_tokens";
        if (specials is not { } map || !map.TryGetProperty(name, out var entry) || entry.ValueKind != JsonValueKind.Object)
        {
            if (tokenToId(name) is { } id)
                return [id];
            throw source.Error($"{specialPath}.{name}", "is missing");
        }
        var ids = new List<int>();
        foreach (var id in source.RequireArray(entry, "ids", $"{specialPath}.{name}").EnumerateArray())
        {
            if (!id.TryGetInt32(out int value))
                throw source.Error($"{specialPath}.{name}.ids", "holds a value that is not a 32-bit integer");
            ids.Add(value);
        }
        return [.. ids];
    }
}
