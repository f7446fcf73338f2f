namespace Distill.Training;

/// <summary>What one optimizer step measured (all scalars: nothing of the step's tensors outlives it).</summary>
/// <param name="Loss">Global-batch objective of the step's forward passes, before the update.</param>
/// <param name="Kd">KD part.</param>
/// <param name="Sft">CE part.</param>
/// <param name="GradNorm">Global gradient L2 norm before clipping.</param>
/// <param name="Lr">Learning rate applied.</param>
/// <param name="Tokens">Real tokens in the global batch.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="Skipped">True when the update was skipped for a non-finite value.</param>
/// <param name="TeacherSeconds">Wall time spent asking the teacher.</param>
/// <param name="Generation">What on-policy sampling made in this step, or null when the run does not sample.</param>
internal sealed record StepOutcome(double Loss, double Kd, double Sft, double GradNorm, double Lr, long Tokens, double Seconds, bool Skipped,
    double TeacherSeconds, GenerationStats? Generation)
{
    /// <summary>The feature part (before its weight), or null when the run has no feature term.</summary>
    public double? Feature { get; init; }
}
