namespace Distill.Losses;

/// <summary>
/// The training objective per supervised token: <c>kd_weight · KD + sft_weight · CE</c>, with the student's
/// logits scaled by <c>logits_scale</c> (s = logits_scale·x), the teacher's by <c>target_logits_scale</c>,
/// both divided by <c>temperature</c> inside the KD term only, and KD optionally multiplied by T².
/// Defaults are NeMo-Aligner's (forward KL, scales 1, kd weight 1, sft weight 0) and TRL's β = 0.5; its KD
/// tutorial uses sft_weight 0.4 and the Nemotron paper λ = 0.1.
/// </summary>
/// <param name="Kind">Which divergence (<c>kd_loss</c>).</param>
/// <param name="KdWeight">Weight of the KD term (<c>kd_weight</c>), ≥ 0.</param>
/// <param name="SftWeight">Weight of the cross-entropy term (<c>sft_weight</c>), ≥ 0; CE is computed on s, without temperature.</param>
/// <param name="LogitsScale">Student logit scale (<c>logits_scale</c>), &gt; 0.</param>
/// <param name="TargetLogitsScale">Teacher logit scale (<c>target_logits_scale</c>), &gt; 0; must be 1 for tail-aware KD.</param>
/// <param name="Temperature">KD softening temperature (<c>temperature</c>), &gt; 0; must be 1 for tail-aware KD.</param>
/// <param name="TSquared">Multiply KD by T² (Hinton et al.) so its gradient scale does not shrink as 1/T² (<c>t_squared</c>).</param>
/// <param name="Beta">JSD interpolation (<c>beta</c>) in [0, 1]: 0 = forward KL, 1 = reverse KL.</param>
public sealed record KdObjective(
    KdLossKind Kind = KdLossKind.FwdKl,
    double KdWeight = 1.0,
    double SftWeight = 0.0,
    double LogitsScale = 1.0,
    double TargetLogitsScale = 1.0,
    double Temperature = 1.0,
    bool TSquared = false,
    double Beta = 0.5)
{
    /// <summary>Plain SFT: cross-entropy only, no teacher needed.</summary>
    public static KdObjective SftOnly { get; } = new(KdWeight: 0, SftWeight: 1);

    /// <summary>True for the kinds that need the teacher's logsumexp (the K+1 bucket losses).</summary>
    public bool IsTailAware => Kind is KdLossKind.TailFwdKl or KdLossKind.TailBwdKl;

    /// <summary>Factor applied to the KD divergence: T² when <see cref="TSquared"/>, else 1.</summary>
    public double KdFactor => TSquared ? Temperature * Temperature : 1.0;

    /// <summary>Checks every field; the exception names the offending key.</summary>
    /// <exception cref="InvalidDataException">A value is out of range or inconsistent with the loss kind.</exception>
    public void Validate()
    {
        CheckWeight(KdWeight, "kd_weight");
        CheckWeight(SftWeight, "sft_weight");
        if (KdWeight == 0 && SftWeight == 0)
            throw new InvalidDataException("kd objective: kd_weight and sft_weight are both 0, nothing would be trained");
        CheckPositive(LogitsScale, "logits_scale");
        CheckPositive(TargetLogitsScale, "target_logits_scale");
        CheckPositive(Temperature, "temperature");
        if (!(Beta >= 0 && Beta <= 1))
            throw new InvalidDataException($"kd objective: beta = {Beta} must be in [0, 1]");
        if (!Enum.IsDefined(Kind))
            throw new InvalidDataException($"kd objective: kd_loss = {(int)Kind} is not a known loss");
        if (IsTailAware && TargetLogitsScale != 1)
            throw new InvalidDataException($"kd objective: target_logits_scale = {TargetLogitsScale} cannot be used with {Name(Kind)}: the cached logsumexp fixes the teacher's tail at scale 1");
        if (Kind == KdLossKind.SampledRkl && (Temperature != 1 || TargetLogitsScale != 1))
            throw new InvalidDataException($"kd objective: sampled_rkl uses the teacher's log-probability of each token as given; temperature = {Temperature} and target_logits_scale = {TargetLogitsScale} must be 1");
        if (IsTailAware && Temperature != 1)
            throw new InvalidDataException($"kd objective: temperature = {Temperature} cannot be used with {Name(Kind)}: the cached logsumexp fixes the teacher's tail at temperature 1");
    }

    /// <summary>The <c>kd_loss</c> names, for messages and help.</summary>
    public const string Names = "fwd_kl, bwd_kl, tail_fwd_kl, tail_bwd_kl, jsd, sampled_rkl";

    /// <summary>Parses a <c>kd_loss</c> name: one of <see cref="Names"/>.</summary>
    public static KdLossKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fwd_kl" => KdLossKind.FwdKl,
        "bwd_kl" => KdLossKind.BwdKl,
        "tail_fwd_kl" => KdLossKind.TailFwdKl,
        "tail_bwd_kl" => KdLossKind.TailBwdKl,
        "jsd" => KdLossKind.Jsd,
        "sampled_rkl" => KdLossKind.SampledRkl,
        _ => throw new InvalidDataException($"kd objective: kd_loss = '{name}' is not one of {Names}"),
    };

    /// <summary>The config / command-line name of a loss kind.</summary>
    public static string Name(KdLossKind kind) => kind switch
    {
        KdLossKind.FwdKl => "fwd_kl",
        KdLossKind.BwdKl => "bwd_kl",
        KdLossKind.TailFwdKl => "tail_fwd_kl",
        KdLossKind.TailBwdKl => "tail_bwd_kl",
        KdLossKind.Jsd => "jsd",
        KdLossKind.SampledRkl => "sampled_rkl",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown kd loss kind"),
    };

    internal static void CheckBeta(double beta)
    {
        if (!(beta >= 0 && beta <= 1)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be in [0, 1]");
    }

    internal static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be finite and > 0");
    }

    private static void CheckWeight(double value, string key)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new InvalidDataException($"kd objective: {key} = {value} must be finite and >= 0");
    }

    private static void CheckPositive(double value, string key)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new InvalidDataException($"kd objective: {key} = {value} must be finite and > 0");
    }
}
