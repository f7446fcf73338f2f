namespace Distill.Evaluation;

/// <summary>Held-out metrics of a student, each a mean over the supervised tokens of every example.</summary>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Tokens">Supervised tokens evaluated.</param>
/// <param name="Loss">Mean cross-entropy of the labels, nats per token.</param>
/// <param name="Perplexity">exp(<paramref name="Loss"/>).</param>
/// <param name="Accuracy">Fraction of supervised tokens where the student's argmax is the label.</param>
/// <param name="Kl">Mean KL(teacher‖student): over the full vocabulary with a teacher model, over the cached top-K
/// (renormalised, the trainer's fwd_kl) with a cache; null without either.</param>
/// <param name="KlSupport">"full" or "top-K" (e.g. "top-8"), saying which KL <paramref name="Kl"/> is; null without a teacher.</param>
/// <param name="Top1Agreement">Fraction of supervised tokens where the student's argmax is the teacher's; null without a teacher.</param>
/// <param name="Generation">Greedy-generation scores, null unless asked for.</param>
public sealed record EvalResult(
    long Examples,
    long Tokens,
    double Loss,
    double Perplexity,
    double Accuracy,
    double? Kl,
    string? KlSupport,
    double? Top1Agreement,
    GenerationScore? Generation);
