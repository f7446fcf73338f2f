using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Distill.Models;

/// <summary>
/// A Hugging Face <c>config.json</c> of a Llama-family causal LM (Llama, Mistral, Qwen2), read with
/// Hugging Face's key names. Unknown keys are kept in <see cref="Raw"/> so saving writes the file back
/// unchanged; defaults are Hugging Face's for the keys it defaults, the structural sizes are required.
/// </summary>
public sealed record LlamaConfig
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary><c>architectures</c>, e.g. ["LlamaForCausalLM"].</summary>
    public IReadOnlyList<string>? Architectures { get; init; }

    /// <summary><c>model_type</c>: "llama", "mistral" or "qwen2".</summary>
    public string? ModelType { get; init; }

    /// <summary>Rows of the embedding and of the output projection. Required.</summary>
    public int VocabSize { get; init; }

    /// <summary>Width of the residual stream. Required.</summary>
    public int HiddenSize { get; init; }

    /// <summary>Width of the gated MLP. Required.</summary>
    public int IntermediateSize { get; init; }

    /// <summary>Number of decoder layers. Required.</summary>
    public int NumHiddenLayers { get; init; }

    /// <summary>Number of query heads. Required.</summary>
    public int NumAttentionHeads { get; init; }

    /// <summary>Number of key/value heads (grouped-query attention); absent means as many as query heads.</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary>Per-head width; absent means hidden_size / num_attention_heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary>Activation of the gated MLP; only "silu" is supported.</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>Epsilon inside RMSNorm's square root.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>RoPE base frequency.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary><c>rope_scaling</c>; null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Transformers v5 spelling of rope_theta + rope_scaling in one object.</summary>
    public RopeScaling? RopeParameters { get; init; }

    /// <summary>Longest context the model was trained for (informational; RoPE is computed per position).</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary>True when lm_head shares the embedding matrix (then lm_head.weight is not stored).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Llama: biases on q, k, v and o projections.</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Llama: biases on the MLP projections.</summary>
    public bool MlpBias { get; init; }

    /// <summary>Attention-probability dropout during training.</summary>
    public double AttentionDropout { get; init; }

    /// <summary>Standard deviation of the normal initialisation of fresh weights.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Mistral: each token sees at most this many tokens (itself included); Qwen2: see <see cref="UseSlidingWindow"/>.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Qwen2: whether <see cref="SlidingWindow"/> is used at all.</summary>
    public bool UseSlidingWindow { get; init; }

    /// <summary><c>bos_token_id</c>.</summary>
    [JsonConverter(typeof(TokenIdsJsonConverter))]
    public IReadOnlyList<int>? BosTokenId { get; init; }

    /// <summary><c>eos_token_id</c>: one id or several.</summary>
    [JsonConverter(typeof(TokenIdsJsonConverter))]
    public IReadOnlyList<int>? EosTokenId { get; init; }

    /// <summary><c>pad_token_id</c>.</summary>
    [JsonConverter(typeof(TokenIdsJsonConverter))]
    public IReadOnlyList<int>? PadTokenId { get; init; }

    /// <summary>Biases on q, k and v: always for Qwen2 (its modelling code hard-codes them), for Llama with attention_bias.</summary>
    [JsonIgnore]
    public bool QkvBias => Family == ModelFamily.Qwen2 || AttentionBias;

    /// <summary>Bias on o_proj: Llama with attention_bias only (Mistral and Qwen2 have none).</summary>
    [JsonIgnore]
    public bool OutputProjectionBias => Family == ModelFamily.Llama && AttentionBias;

    /// <summary>Biases on the MLP projections: Llama with mlp_bias only.</summary>
    [JsonIgnore]
    public bool MlpProjectionBias => Family == ModelFamily.Llama && MlpBias;

    /// <summary>
    /// The embedding row Hugging Face passes as <c>padding_idx</c>: a single <c>pad_token_id</c> inside the vocabulary,
    /// else none. Its row starts at zero and its gradient stays zero.
    /// </summary>
    [JsonIgnore]
    public long? PaddingIndex => PadTokenId is [var pad] && pad >= 0 && pad < VocabSize ? pad : null;

    /// <summary><c>torch_dtype</c> (transformers v5 writes <c>dtype</c>).</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The parsed file, unknown keys included; saving writes it back.</summary>
    [JsonIgnore]
    public JsonObject Raw { get; init; } = [];

    /// <summary>Where the config was read from, for error messages ("config.json" when built in code).</summary>
    [JsonIgnore]
    public string SourcePath { get; init; } = "config.json";

    /// <summary>Which family the config names.</summary>
    [JsonIgnore]
    public ModelFamily Family => ResolveFamily();

    /// <summary>Key/value heads after defaulting.</summary>
    [JsonIgnore]
    public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>Per-head width after defaulting.</summary>
    [JsonIgnore]
    public int HeadDimension => HeadDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0);

    /// <summary>Base frequency after taking transformers v5's rope_parameters into account.</summary>
    [JsonIgnore]
    public double EffectiveRopeTheta => RopeParameters?.RopeTheta ?? RopeTheta;

    /// <summary>Scaling after taking rope_parameters into account; null for plain RoPE.</summary>
    [JsonIgnore]
    public RopeScaling? EffectiveRopeScaling => RopeScaling ?? (RopeParameters?.Kind is null or "default" ? null : RopeParameters);

    /// <summary>Window of sliding-window attention as the family applies it; null for full attention.</summary>
    [JsonIgnore]
    public int? EffectiveSlidingWindow => Family switch
    {
        ModelFamily.Mistral => SlidingWindow,
        _ => null,
    };

    /// <summary>The dtype name written back to config.json ("torch_dtype", or "dtype" for transformers v5).</summary>
    [JsonIgnore]
    public string? DeclaredDType => TorchDtype ?? (Raw["dtype"] is JsonValue v && v.TryGetValue(out string? s) ? s : null);

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not JSON, or a key is missing or invalid.</exception>
    /// <exception cref="NotSupportedException">The architecture or a feature is not supported.</exception>
    public static LlamaConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: file not found (a Hugging Face model folder needs config.json)");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates config.json text; <paramref name="sourcePath"/> names it in errors.</summary>
    public static LlamaConfig Parse(string json, string sourcePath = "config.json")
    {
        JsonObject raw;
        LlamaConfig config;
        try
        {
            raw = JsonNode.Parse(json) as JsonObject
                ?? throw new InvalidDataException($"{sourcePath}: expected a JSON object");
            config = raw.Deserialize<LlamaConfig>(JsonOptions)
                ?? throw new InvalidDataException($"{sourcePath}: expected a JSON object");
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 2 } p ? $"key '{p[2..]}'" : "not valid JSON";
            throw new InvalidDataException($"{sourcePath}: {where}: {e.Message}", e);
        }
        config = (config with { Raw = raw, SourcePath = sourcePath }).WithFamilyDefaults();
        config.Validate();
        return config;
    }

    /// <summary>Checks every key the model needs, naming the first missing or invalid one.</summary>
    public void Validate()
    {
        _ = Family;
        RequirePositive("vocab_size", VocabSize);
        RequirePositive("hidden_size", HiddenSize);
        RequirePositive("intermediate_size", IntermediateSize);
        RequirePositive("num_hidden_layers", NumHiddenLayers);
        RequirePositive("num_attention_heads", NumAttentionHeads);
        if (KeyValueHeads <= 0 || NumAttentionHeads % KeyValueHeads != 0)
            throw Invalid("num_key_value_heads", $"{KeyValueHeads} must be positive and divide num_attention_heads ({NumAttentionHeads})");
        if (HeadDim is null && HiddenSize % NumAttentionHeads != 0)
            throw Invalid("num_attention_heads", $"{NumAttentionHeads} does not divide hidden_size ({HiddenSize}) and head_dim is not given");
        if (HeadDimension <= 0 || HeadDimension % 2 != 0)
            throw Invalid("head_dim", $"{HeadDimension} must be positive and even (RoPE rotates pairs)");
        if (!(RmsNormEps > 0))
            throw Invalid("rms_norm_eps", "must be positive");
        if (!(EffectiveRopeTheta > 0))
            throw Invalid("rope_theta", "must be positive");
        if (HiddenAct != "silu")
            throw new NotSupportedException($"{SourcePath}: hidden_act '{HiddenAct}' is not supported (only silu)");
        if (Family == ModelFamily.Qwen2 && UseSlidingWindow)
            throw new NotSupportedException($"{SourcePath}: use_sliding_window=true is not supported for Qwen2");
        if (EffectiveSlidingWindow is <= 0)
            throw Invalid("sliding_window", "must be positive or null");
        if (!(AttentionDropout is >= 0 and < 1))
            throw Invalid("attention_dropout", "must be in [0, 1)");
        ValidateRopeScaling();
    }

    private void ValidateRopeScaling()
    {
        var scaling = EffectiveRopeScaling;
        if (scaling is null) return;
        var key = RopeScaling is null ? "rope_parameters" : "rope_scaling";
        switch (scaling.Kind)
        {
            case "default":
                return;
            case "linear":
                if (!(scaling.Factor >= 1))
                    throw Invalid($"{key}.factor", "linear scaling needs factor >= 1");
                return;
            case "llama3":
                if (!(scaling.Factor > 0))
                    throw Invalid($"{key}.factor", "llama3 scaling needs a positive factor");
                if (!(scaling.LowFreqFactor > 0))
                    throw Invalid($"{key}.low_freq_factor", "llama3 scaling needs a positive low_freq_factor");
                if (!(scaling.HighFreqFactor > scaling.LowFreqFactor))
                    throw Invalid($"{key}.high_freq_factor", "llama3 scaling needs high_freq_factor > low_freq_factor");
                if (!(scaling.OriginalMaxPositionEmbeddings > 0))
                    throw Invalid($"{key}.original_max_position_embeddings", "llama3 scaling needs a positive value");
                return;
            default:
                throw new NotSupportedException($"{SourcePath}: {key} type '{scaling.Kind}' is not supported (default, linear, llama3)");
        }
    }

    private ModelFamily ResolveFamily()
    {
        if (Architectures is { Count: > 0 })
        {
            if (Architectures.Count > 1)
                throw new NotSupportedException($"{SourcePath}: several architectures [{string.Join(", ", Architectures)}] are not supported");
            return Architectures[0] switch
            {
                "LlamaForCausalLM" => ModelFamily.Llama,
                "MistralForCausalLM" => ModelFamily.Mistral,
                "Qwen2ForCausalLM" => ModelFamily.Qwen2,
                var other => throw new NotSupportedException($"{SourcePath}: architecture '{other}' is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)"),
            };
        }
        return ModelType switch
        {
            "llama" => ModelFamily.Llama,
            "mistral" => ModelFamily.Mistral,
            "qwen2" => ModelFamily.Qwen2,
            null => throw new InvalidDataException($"{SourcePath}: key 'architectures' (or 'model_type') is missing"),
            var other => throw new NotSupportedException($"{SourcePath}: model_type '{other}' is not supported (llama, mistral, qwen2)"),
        };
    }

    /// <summary>Applies the defaults that differ between families, for keys the file leaves out.</summary>
    private LlamaConfig WithFamilyDefaults()
    {
        var raw = Raw;
        var family = Family;
        var config = this;
        if (!raw.ContainsKey("max_position_embeddings"))
            config = config with { MaxPositionEmbeddings = family switch { ModelFamily.Mistral => 4096 * 32, ModelFamily.Qwen2 => 32768, _ => 2048 } };
        if (family == ModelFamily.Mistral && !raw.ContainsKey("sliding_window"))
            config = config with { SlidingWindow = 4096 };
        if (family != ModelFamily.Qwen2 && !raw.ContainsKey("bos_token_id"))
            config = config with { BosTokenId = [1] };
        if (family != ModelFamily.Qwen2 && !raw.ContainsKey("eos_token_id"))
            config = config with { EosTokenId = [2] };
        return config;
    }

    private void RequirePositive(string key, int value)
    {
        if (!Raw.ContainsKey(key) && value == 0)
            throw new InvalidDataException($"{SourcePath}: key '{key}' is missing");
        if (value <= 0)
            throw Invalid(key, $"{value} must be positive");
    }

    private InvalidDataException Invalid(string key, string reason) =>
        new($"{SourcePath}: key '{key}' is invalid: {reason}");
}
