namespace Distill.Evaluation;

/// <summary>How often greedy answers match the references.</summary>
/// <param name="Conversations">Conversations generated for.</param>
/// <param name="ExactMatch">Fraction whose generated answer equals the reference's last assistant message, both trimmed.</param>
/// <param name="WithFinalAnswer">References that end in a final-answer pattern (see <see cref="AnswerScoring.FinalAnswer"/>).</param>
/// <param name="FinalAnswerContained">Among those, the fraction whose generated answer contains that final answer; null when none has one.</param>
/// <param name="FinalAnswerCorrect">Among those, the fraction whose generated answer ends in the same final answer
/// (see <see cref="AnswerScoring.SameFinalAnswer"/>); null when none has one.</param>
/// <param name="StoppedAtEos">Fraction of generations that ended on an end-of-sequence id rather than the token limit.</param>
public sealed record GenerationScore(
    long Conversations,
    double ExactMatch,
    long WithFinalAnswer,
    double? FinalAnswerContained,
    double? FinalAnswerCorrect,
    double StoppedAtEos);
