namespace Distill.Training;

/// <summary>Which hidden-state distillation term the <c>feature</c> section adds.</summary>
public enum FeatureLossKind
{
    /// <summary>No feature term.</summary>
    None,

    /// <summary>1 − cos(W·h_s, h_t) per token (DistilBERT's cosine embedding loss).</summary>
    Cosine,

    /// <summary>Mean squared error per element between W·h_s and h_t.</summary>
    Mse,

    /// <summary>KL between the teacher's and the student's attention and value relations (MiniLM).</summary>
    Attention,
}

/// <summary>Which positions the feature term covers.</summary>
public enum FeatureTokens
{
    /// <summary>The positions that predict supervised targets (the rows KD and CE use).</summary>
    Supervised,

    /// <summary>Every real token.</summary>
    All,
}

/// <summary>How the attention-relation loss pairs the heads of a student and a teacher layer.</summary>
public enum AttentionHeads
{
    /// <summary>Head by head when the counts agree, else both sides averaged over heads.</summary>
    Auto,

    /// <summary>Head by head; unequal counts are an error.</summary>
    Match,

    /// <summary>Each side's relations averaged over its heads, then compared.</summary>
    Average,
}

/// <summary>
/// The <c>feature</c> section: hidden-state (feature) distillation with a live teacher. Objective per token:
/// kd_weight·KD + sft_weight·CE + weight·Σ_pairs feature, normalised over the global batch like the others.
/// </summary>
/// <param name="Loss">The term (<c>loss</c>): none, cosine, mse or attention.</param>
/// <param name="Weight">Its weight (<c>weight</c>), ≥ 0.</param>
/// <param name="LayerMap">
/// Student layer → teacher layer pairs (<c>layer_map</c>, "s:t,..."; 0-based decoder layers, the state after each
/// layer as Hugging Face's hidden_states give it, the last one after the final norm); null maps every student layer,
/// evenly spaced, last to last.
/// </param>
/// <param name="Tokens">The positions covered (<c>tokens</c>): supervised or all.</param>
/// <param name="Heads">How attention relations pair heads (<c>heads</c>): auto, match or average.</param>
public sealed record FeatureOptions(
    FeatureLossKind Loss = FeatureLossKind.None,
    double Weight = 1.0,
    string? LayerMap = null,
    FeatureTokens Tokens = FeatureTokens.Supervised,
    AttentionHeads Heads = AttentionHeads.Auto)
{
    /// <summary>True when a feature term is trained.</summary>
    public bool Enabled => Loss != FeatureLossKind.None;

    /// <summary>The recipe spelling of an enum value (lower case).</summary>
    public static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>Parses a recipe spelling of <typeparamref name="T"/>; the error lists the valid ones.</summary>
    /// <exception cref="FormatException">Not one of them.</exception>
    public static T Parse<T>(string? text) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
            if (Name(value) == text?.Trim().ToLowerInvariant()) return value;
        throw new FormatException("expected one of " + string.Join(", ", Enum.GetValues<T>().Select(Name)));
    }
}
