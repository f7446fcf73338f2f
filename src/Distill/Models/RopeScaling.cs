using System.Text.Json.Serialization;

namespace Distill.Models;

/// <summary>
/// The <c>rope_scaling</c> (or <c>rope_parameters</c>) object of a Hugging Face config.
/// Older configs spell the kind <c>type</c>, newer ones <c>rope_type</c>.
/// </summary>
public sealed record RopeScaling
{
    /// <summary><c>rope_type</c>: "default", "linear" or "llama3" are supported.</summary>
    public string? RopeType { get; init; }

    /// <summary>Legacy spelling of <see cref="RopeType"/>.</summary>
    public string? Type { get; init; }

    /// <summary>Context extension factor (linear: positions divided by it; llama3: low frequencies divided by it).</summary>
    public double? Factor { get; init; }

    /// <summary>llama3: wavelengths longer than original_max_position_embeddings / low_freq_factor are fully scaled.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: wavelengths shorter than original_max_position_embeddings / high_freq_factor are left alone.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>llama3: the context length the model was pre-trained with before extension.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>Transformers v5 moves <c>rope_theta</c> in here.</summary>
    public double? RopeTheta { get; init; }

    /// <summary>The kind, whichever key spelled it; "default" when neither did.</summary>
    [JsonIgnore]
    public string Kind => RopeType ?? Type ?? "default";
}
