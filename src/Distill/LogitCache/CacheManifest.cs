using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>
/// <c>manifest.json</c> of a logit cache (docs/FORMAT.md). Part manifests written by slices
/// (<c>manifest.part-I-of-N.json</c>) have the same schema plus <c>slice</c>, and list only their complete shards.
/// </summary>
public sealed record CacheManifest
{
    /// <summary>The value of <c>format</c>.</summary>
    public const string FormatName = "distill-logit-cache";

    /// <summary>The value of <c>version</c> this code writes.</summary>
    public const int CurrentVersion = 2;

    /// <summary>The oldest <c>version</c> this code reads (version 1 lacks <c>compute_dtype</c>, <c>batch_tokens</c> and <c>data.size</c>).</summary>
    public const int OldestReadableVersion = 1;

    // Values longer than this are cut in messages: a chat template can run to kilobytes.
    private const int MaxValueChars = 80;

    /// <summary>Always <see cref="FormatName"/>.</summary>
    [JsonPropertyName("format")] public required string Format { get; init; }

    /// <summary><see cref="CurrentVersion"/> when written by this code; <see cref="OldestReadableVersion"/> or later when read.</summary>
    [JsonPropertyName("version")] public required int Version { get; init; }

    /// <summary>The teacher that produced the logits.</summary>
    [JsonPropertyName("teacher")] public required TeacherFingerprint Teacher { get; init; }

    /// <summary>Hash of the tokenizer files that produced <c>input_ids</c>.</summary>
    [JsonPropertyName("tokenizer_fingerprint")] public required string TokenizerFingerprint { get; init; }

    /// <summary>The chat template text, or its hash ("sha256:…"); "" when the data was not chat-formatted.</summary>
    [JsonPropertyName("chat_template")] public required string ChatTemplate { get; init; }

    /// <summary>The source data file.</summary>
    [JsonPropertyName("data")] public required DataSource Data { get; init; }

    /// <summary>K, the number of teacher entries per row.</summary>
    [JsonPropertyName("top_k")] public required int TopK { get; init; }

    /// <summary>"f32", "bf16" or "f16": the dtype of <c>topk_logits</c>.</summary>
    [JsonPropertyName("logit_dtype")] public required string LogitDType { get; init; }

    /// <summary>
    /// The teacher's compute dtype ("fp32" or "bf16"; see <see cref="ComputeDTypes"/>), which changes the stored values;
    /// null when unknown (version-1 manifests, NeMo imports).
    /// </summary>
    [JsonPropertyName("compute_dtype")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ComputeDType { get; init; }

    /// <summary>The longest example (in tokens) the cache may hold.</summary>
    [JsonPropertyName("max_seq_len")] public required int MaxSeqLen { get; init; }

    /// <summary>
    /// Informational: the padded tokens per forward pass every shard was computed with. Batching changes values only by
    /// rounding, so it is not part of the cache's identity, but recomputing a shard to its exact bytes needs it. Null
    /// when unknown or when slices or resumed runs used different budgets.
    /// </summary>
    [JsonPropertyName("batch_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? BatchTokens { get; init; }

    /// <summary>Examples in the whole cache (all slices).</summary>
    [JsonPropertyName("example_count")] public required long ExampleCount { get; init; }

    /// <summary>Present only in part manifests: the slice that wrote them.</summary>
    [JsonPropertyName("slice")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CacheSlice? Slice { get; init; }

    /// <summary>Shards in example order.</summary>
    [JsonPropertyName("shards")] public required IReadOnlyList<ShardEntry> Shards { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A manifest without shards: the settings a writer is opened with.</summary>
    public static CacheManifest Create(TeacherFingerprint teacher, string tokenizerFingerprint, string chatTemplate,
        DataSource data, int topK, string logitDType, int maxSeqLen, long exampleCount, string? computeDType = null,
        long? batchTokens = null) => new()
    {
        Format = FormatName,
        Version = CurrentVersion,
        Teacher = teacher,
        TokenizerFingerprint = tokenizerFingerprint,
        ChatTemplate = chatTemplate,
        Data = data,
        TopK = topK,
        LogitDType = logitDType,
        ComputeDType = computeDType,
        MaxSeqLen = maxSeqLen,
        BatchTokens = batchTokens,
        ExampleCount = exampleCount,
        Shards = [],
    };

    /// <summary>The settings alone (no shards, no slice): what every manifest of one run repeats. Compare <see cref="Identity"/>, not this.</summary>
    [JsonIgnore]
    public CacheManifest Header => this with { Shards = [], Slice = null };

    /// <summary>
    /// The settings that make the stored bytes what they are: <see cref="Header"/> without the informational
    /// <c>data.path</c>, <c>batch_tokens</c> and <c>teacher.server.url</c>. Slices and resumed runs must agree on it.
    /// </summary>
    [JsonIgnore]
    public CacheManifest Identity => Header with { Data = Data.Identity, BatchTokens = null, Teacher = Teacher.Identity };

    /// <summary>Serialises to indented UTF-8 JSON with a trailing newline; the same manifest always gives the same bytes.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Parses and validates; <see cref="InvalidDataException"/> names <paramref name="source"/> and the bad key.</summary>
    public static CacheManifest Parse(string json, string source)
    {
        CacheManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CacheManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        if (manifest is null) throw new InvalidDataException($"{source}: manifest is null");
        manifest.Validate(source);
        return manifest;
    }

    /// <summary>Reads and validates a manifest file.</summary>
    public static CacheManifest Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: manifest not found", path);
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Writes atomically: a temp file in the same folder, then a rename over <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToJson(), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// The first key (depth first, in document order) on which the <see cref="Identity"/> of two manifests differs, with
    /// both values, or null when they agree.
    /// </summary>
    public static SettingDifference? FirstDifference(CacheManifest a, CacheManifest b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var x = JsonDocument.Parse(a.Identity.ToJson());
        using var y = JsonDocument.Parse(b.Identity.ToJson());
        return FirstDifference("", x.RootElement, y.RootElement);
    }

    private static SettingDifference? FirstDifference(string prefix, JsonElement a, JsonElement b)
    {
        foreach (var property in a.EnumerateObject().Concat(b.EnumerateObject()))
        {
            var key = prefix + property.Name;
            var hasA = a.TryGetProperty(property.Name, out var valueA);
            var hasB = b.TryGetProperty(property.Name, out var valueB);
            if (hasA && hasB && valueA.ValueKind == JsonValueKind.Object && valueB.ValueKind == JsonValueKind.Object)
            {
                if (FirstDifference(key + ".", valueA, valueB) is { } nested) return nested;
            }
            else if (!hasA || !hasB || valueA.GetRawText() != valueB.GetRawText())
            {
                return new SettingDifference(key, Shown(hasA, valueA), Shown(hasB, valueB));
            }
        }
        return null;
    }

    private static string Shown(bool present, JsonElement value)
    {
        if (!present) return "(absent)";
        var text = value.GetRawText();
        return text.Length <= MaxValueChars ? text : text[..MaxValueChars] + "…";
    }

    /// <summary>Throws <see cref="InvalidDataException"/> "<paramref name="source"/>: key: reason" for the first problem found.</summary>
    public void Validate(string source)
    {
        var problem = FindProblem();
        if (problem is not null) throw new InvalidDataException($"{source}: {problem}");
    }

    /// <summary>Null when valid, otherwise the first problem, naming the key.</summary>
    internal string? FindProblem()
    {
        if (Format != FormatName) return $"format: expected \"{FormatName}\", got \"{Format}\"";
        if (Version < OldestReadableVersion || Version > CurrentVersion)
            return $"version: expected {OldestReadableVersion} to {CurrentVersion}, got {Version}";
        if (Teacher.VocabSize < 1) return $"teacher.vocab_size: must be ≥ 1, got {Teacher.VocabSize}";
        if (TopK < 1) return $"top_k: must be ≥ 1, got {TopK}";
        if (TopK > Teacher.VocabSize) return $"top_k: {TopK} exceeds teacher.vocab_size {Teacher.VocabSize}";
        if (LogitDTypes.TryParse(LogitDType) is null) return $"logit_dtype: expected f32, bf16 or f16, got \"{LogitDType}\"";
        if (ComputeDType is not null && !ComputeDTypes.IsKnown(ComputeDType))
            return $"compute_dtype: expected {ComputeDTypes.Fp32} or {ComputeDTypes.Bf16}, got \"{ComputeDType}\"";
        if (BatchTokens < 1) return $"batch_tokens: must be ≥ 1, got {BatchTokens}";
        if (!IsHash(TokenizerFingerprint))
            return $"tokenizer_fingerprint: expected 64 hex digits (optionally after \"sha256:\"), got \"{Cut(TokenizerFingerprint)}\"";
        if (Data.Sha256.Length != 64 || !Data.Sha256.All(Uri.IsHexDigit)) return "data.sha256: not 64 hex digits";
        if (Data.Size < 0) return $"data.size: must be ≥ 0, got {Data.Size}";
        if (MaxSeqLen < 1) return $"max_seq_len: must be ≥ 1, got {MaxSeqLen}";
        if (ExampleCount < 0) return $"example_count: must be ≥ 0, got {ExampleCount}";
        if (Slice is not null && (Slice.Count < 1 || Slice.Index < 0 || Slice.Index >= Slice.Count))
            return $"slice: index {Slice.Index} of {Slice.Count} is out of range";
        return ValidateShards();
    }

    // The tokenizer's fingerprint is compared with the student's before training; one that is not a hash would make that
    // comparison impossible, so it is refused rather than skipped.
    private static bool IsHash(string text)
    {
        var hex = text.StartsWith("sha256:", StringComparison.Ordinal) ? text["sha256:".Length..] : text;
        return hex.Length == 64 && hex.All(Uri.IsHexDigit);
    }

    private static string Cut(string text) => text.Length <= MaxValueChars ? text : text[..MaxValueChars] + "…";

    private string? ValidateShards()
    {
        var next = Slice is null ? 0L : -1L;
        for (var i = 0; i < Shards.Count; i++)
        {
            var s = Shards[i];
            var key = $"shards[{i}]";
            if (string.IsNullOrEmpty(s.File) || s.File != Path.GetFileName(s.File) || s.File.StartsWith('.'))
                return $"{key}.file: \"{s.File}\" must be a plain file name inside the cache folder";
            if (s.ExampleCount < 1) return $"{key}.example_count: must be ≥ 1, got {s.ExampleCount}";
            if (s.Rows < 0) return $"{key}.rows: must be ≥ 0, got {s.Rows}";
            if (s.Tokens < s.ExampleCount) return $"{key}.tokens: {s.Tokens} is fewer than its {s.ExampleCount} examples";
            if (s.Sha256.Length != 64 || !s.Sha256.All(Uri.IsHexDigit)) return $"{key}.sha256: not 64 hex digits";
            if (s.FirstExample < 0 || (next >= 0 && s.FirstExample != next))
                return $"{key}.first_example: expected {Math.Max(next, 0)}, got {s.FirstExample} (shards must be contiguous)";
            if (s.EndExample > ExampleCount) return $"{key}: examples end at {s.EndExample}, beyond example_count {ExampleCount}";
            next = s.EndExample;
        }
        if (Slice is null && next != ExampleCount)
            return $"shards: cover examples [0, {next}) but example_count is {ExampleCount}";
        return null;
    }
}
