namespace Distill.Training;

/// <summary>A step produced a non-finite loss or gradient and <c>skip_nonfinite</c> is off; the weights were not updated.</summary>
public sealed class NonFiniteLossException : Exception
{
    /// <summary>Creates the exception for <paramref name="step"/> (1-based).</summary>
    public NonFiniteLossException(int step, string what, string? lastCheckpoint)
        : base($"step {step}: {what} is not finite; stopped without updating the weights" +
               (lastCheckpoint is null ? " (no checkpoint was saved yet)" : $"; the last checkpoint is {lastCheckpoint}") +
               " (set skip_nonfinite to skip such steps)")
    {
        Step = step;
    }

    /// <summary>Weights that must not be saved, or a run stopped for too many skipped steps; <paramref name="message"/> says which and where.</summary>
    public NonFiniteLossException(string message, int step = 0)
        : base(message)
    {
        Step = step;
    }

    /// <summary>The failed step (1-based).</summary>
    public int Step { get; }
}
