using Distill.Evaluation;

namespace Distill.Training;

/// <summary>The outcome of a completed run.</summary>
/// <param name="Steps">Steps completed.</param>
/// <param name="FinalLoss">The last step's training loss.</param>
/// <param name="ModelDirectory">The final student's Hugging Face folder.</param>
/// <param name="SkippedSteps">Steps skipped for non-finite values.</param>
/// <param name="Validation">The final validation, or null without validation data.</param>
public sealed record TrainResult(int Steps, double FinalLoss, string ModelDirectory, int SkippedSteps, ValidationResult? Validation)
{
    /// <summary>
    /// True when a resumed run had already done every step, so no step ran (<see cref="FinalLoss"/> is NaN): its
    /// final student was left as it was, or saved from the last checkpoint when a kill had come before it was written.
    /// </summary>
    public bool NothingLeft { get; init; }
}
