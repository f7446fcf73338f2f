namespace Distill.Models;

/// <summary>What <c>distill inspect</c> reports about a Hugging Face model folder, read without loading weights.</summary>
public sealed record ModelSummary
{
    /// <summary>The folder inspected.</summary>
    public required string Directory { get; init; }

    /// <summary>architectures[0], or the family's class name when the config only has model_type.</summary>
    public required string Architecture { get; init; }

    /// <summary>model_type.</summary>
    public string? ModelType { get; init; }

    /// <summary>Parameters stored in the weight files (tied matrices once); null when the folder has no weights.</summary>
    public long? ParameterCount { get; init; }

    /// <summary>torch_dtype (or dtype) from config.json.</summary>
    public string? ConfigDtype { get; init; }

    /// <summary>Distinct dtypes of the stored weights, e.g. ["BF16"].</summary>
    public required IReadOnlyList<string> WeightDtypes { get; init; }

    /// <summary>Number of safetensors files holding the weights.</summary>
    public int WeightFiles { get; init; }

    /// <summary>vocab_size.</summary>
    public int VocabSize { get; init; }

    /// <summary>num_hidden_layers.</summary>
    public int Layers { get; init; }

    /// <summary>hidden_size.</summary>
    public int HiddenSize { get; init; }

    /// <summary>intermediate_size.</summary>
    public int IntermediateSize { get; init; }

    /// <summary>num_attention_heads.</summary>
    public int AttentionHeads { get; init; }

    /// <summary>num_key_value_heads after defaulting.</summary>
    public int KeyValueHeads { get; init; }

    /// <summary>Per-head width after defaulting.</summary>
    public int HeadDim { get; init; }

    /// <summary>tie_word_embeddings.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>max_position_embeddings.</summary>
    public int MaxPositionEmbeddings { get; init; }

    /// <summary>RoPE base frequency.</summary>
    public double RopeTheta { get; init; }

    /// <summary>RoPE scaling kind ("default", "linear", "llama3").</summary>
    public required string RopeScaling { get; init; }

    /// <summary>bos/eos/pad/unk as config.json, generation_config.json and tokenizer_config.json declare them.</summary>
    public required IReadOnlyList<SpecialToken> SpecialTokens { get; init; }

    /// <summary>Where the folder came from when <c>distill init-student</c> made it (teacher layers or random), else null.</summary>
    public string? StudentInit { get; init; }
}
