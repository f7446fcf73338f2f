namespace Distill.Evaluation;

/// <summary>Held-out metrics, each a mean over the supervised tokens of the whole validation set.</summary>
/// <param name="Loss">The objective, kd_weight·KD + sft_weight·CE.</param>
/// <param name="Kd">The KD part (0 without a teacher).</param>
/// <param name="Sft">The cross-entropy part.</param>
/// <param name="Accuracy">Fraction of targets where the student's most likely token is the label.</param>
/// <param name="Top1Agreement">Fraction of targets where the student's most likely token is the teacher's; null without a teacher.</param>
/// <param name="Tokens">Supervised tokens evaluated.</param>
public sealed record ValidationResult(double Loss, double Kd, double Sft, double Accuracy, double? Top1Agreement, long Tokens)
{
    /// <summary>On-policy runs: reverse KL(student‖teacher) per token of the student's own greedy answers to the held-out prompts.</summary>
    public double? OwnReverseKl { get; init; }

    /// <summary>On-policy runs: the fraction of held-out answers with a final answer that the student's greedy answer matches.</summary>
    public double? AnswerAccuracy { get; init; }
}
