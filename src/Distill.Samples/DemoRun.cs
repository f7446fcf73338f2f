namespace Distill.Samples;

/// <summary>One trained (or evaluated) model of the demo and its held-out numbers.</summary>
/// <param name="Name">"teacher", "sft", "kd+sft 0.7S", "kd+sft S", or a sweep's label.</param>
/// <param name="Seed">The student seed (0 for the teacher).</param>
/// <param name="Steps">Optimizer steps (0 for the teacher).</param>
/// <param name="HeldOutLoss">Mean cross-entropy per supervised held-out token.</param>
/// <param name="TokenAccuracy">Fraction of supervised held-out tokens whose argmax is the reference token.</param>
/// <param name="AnswerAccuracy">Fraction of held-out questions whose greedy answer ends in the reference's final answer
/// ("The answer is N." with the same N; see <see cref="Distill.Evaluation.AnswerScoring.SameFinalAnswer"/>).</param>
/// <param name="Curve">Held-out numbers by step during the run (empty for the teacher and for runs without a curve).</param>
public sealed record DemoRun(string Name, long Seed, int Steps, double HeldOutLoss, double TokenAccuracy, double AnswerAccuracy,
    IReadOnlyList<CurvePoint> Curve)
{
    /// <summary>The held-out loss split into digit and other tokens (the default demo measures it; sweeps do not).</summary>
    public DigitLoss? ByTokenKind { get; init; }
}

/// <summary>Held-out numbers at one step of a run.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="Loss">Held-out cross-entropy per supervised token (from the trainer's validation).</param>
/// <param name="Answers">Held-out answer accuracy, or null where it was not measured (it needs a checkpoint and greedy decoding).</param>
public sealed record CurvePoint(int Step, double Loss, double? Answers = null);
