using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>The limits of <c>skip_nonfinite</c>: how many skipped steps a run may take, and weights that are never saved.</summary>
public static class NonFiniteGuard
{
    /// <summary>
    /// Throws once more than <c>max_skipped_fraction</c> of the run's planned steps were skipped: a run that skips that
    /// often has diverged (a learning rate far too high, bad data), and continuing would only save a broken student.
    /// </summary>
    /// <exception cref="NonFiniteLossException">Too many steps skipped; names the counts and the key.</exception>
    public static void CheckSkipped(TrainerState state, TrainerOptions t, string? lastCheckpoint)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(t);
        if (state.SkippedSteps <= t.MaxSkippedFraction * t.Steps) return;
        throw new NonFiniteLossException(
            $"step {state.Step}: {state.SkippedSteps} of the {state.Step} steps so far were skipped as non-finite, more than trainer.max_skipped_fraction = " +
            $"{t.MaxSkippedFraction} of the {t.Steps} steps; the run has diverged (a lower learning rate?); stopped without saving a final model" +
            (lastCheckpoint is null ? "" : $"; the last checkpoint is {lastCheckpoint}"), state.Step);
    }

    /// <summary>
    /// Throws when any weight is NaN or infinite, so that no checkpoint or final model is written with them. One host sync
    /// per parameter, only when saving.
    /// </summary>
    /// <exception cref="NonFiniteLossException">Names the first non-finite parameter and what was being saved.</exception>
    public static void CheckWeights(LlamaForCausalLM model, string what)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!parameter.isfinite().all().item<bool>())
                throw new NonFiniteLossException($"{what}: parameter '{name}' holds NaN or infinite values; nothing was saved");
        }
    }
}
