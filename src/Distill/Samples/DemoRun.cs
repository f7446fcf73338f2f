namespace Distill.Samples;

/// <summary>One trained (or evaluated) model of the demo and its held-out numbers.</summary>
/// <param name="Name">"teacher", "sft", "kd+sft 0.7S" or "kd+sft S".</param>
/// <param name="Seed">The student seed (0 for the teacher).</param>
/// <param name="Steps">Optimizer steps (0 for the teacher).</param>
/// <param name="HeldOutLoss">Mean cross-entropy per supervised held-out token.</param>
/// <param name="TokenAccuracy">Fraction of supervised held-out tokens whose argmax is the reference token.</param>
/// <param name="AnswerAccuracy">Fraction of held-out questions whose greedy answer ends in the reference's final answer
/// ("The answer is N." with the same N; see <see cref="Distill.Evaluation.AnswerScoring.SameFinalAnswer"/>).</param>
/// <param name="Curve">Held-out cross-entropy by step, from the run's validation rows in metrics.jsonl.</param>
public sealed record DemoRun(string Name, long Seed, int Steps, double HeldOutLoss, double TokenAccuracy, double AnswerAccuracy,
    IReadOnlyList<(int Step, double Loss)> Curve);
