using Distill.Evaluation;

namespace Distill.Training;

/// <summary>What the trainer reports after each optimizer step or validation, for progress bars and logs.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="Steps">Steps in the run.</param>
/// <param name="Loss">The step's global-batch objective (before its update), or the validation loss.</param>
/// <param name="Kd">KD part.</param>
/// <param name="Sft">CE part.</param>
/// <param name="Lr">Learning rate used by the step.</param>
/// <param name="TokensPerSecond">Real tokens processed per second in the step.</param>
/// <param name="GradNorm">Global gradient L2 norm before clipping.</param>
/// <param name="Elapsed">Wall time since the run (or the resume) started.</param>
/// <param name="Validation">The validation result when this report is one, else null.</param>
/// <param name="Message">A one-line note (checkpoint saved, step skipped), or null.</param>
public sealed record TrainProgress(int Step, int Steps, double Loss, double Kd, double Sft, double Lr, double TokensPerSecond,
    double GradNorm, TimeSpan Elapsed, ValidationResult? Validation = null, string? Message = null)
{
    /// <summary>The step's feature part (before its weight), or null when the run has no feature term.</summary>
    public double? Feature { get; init; }
}
