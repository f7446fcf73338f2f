namespace Distill.Training;

/// <summary>
/// The <c>online</c> section: on-policy distillation with a live teacher (GKD, "On-Policy Distillation of Language
/// Models: Learning from Self-Generated Mistakes"), named after TRL's GKDTrainer.
/// </summary>
/// <param name="Lambda">
/// The fraction of each global batch's examples whose completion the student samples itself from the example's prompt
/// (<c>lambda</c>, in [0, 1]); the rest keep the dataset's answer. 0 is supervised online KD, 1 fully on-policy.
/// </param>
/// <param name="SeqKd">The non-sampled examples use a completion the teacher samples instead of the dataset's (<c>seq_kd</c>).</param>
/// <param name="MaxNewTokens">Longest sampled completion (<c>max_new_tokens</c>); sampling also stops at the template's end of turn or eos.</param>
/// <param name="GenTemperature">Sampling temperature (<c>gen_temperature</c>); 0 is greedy.</param>
/// <param name="GenTopP">Nucleus sampling mass (<c>gen_top_p</c>), in (0, 1]; 1 is off.</param>
/// <param name="GenTopK">Sample among the K most likely tokens (<c>gen_top_k</c>); 0 is off.</param>
public sealed record OnlineOptions(
    double Lambda = 0,
    bool SeqKd = false,
    int MaxNewTokens = 128,
    double GenTemperature = 1.0,
    double GenTopP = 1.0,
    int GenTopK = 0)
{
    /// <summary>True when some completions are sampled during training (by the student or, with seq_kd, the teacher).</summary>
    public bool Samples => Lambda > 0 || SeqKd;
}
