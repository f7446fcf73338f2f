namespace Distill.Training;

/// <summary>
/// The learning rate of each optimizer step, as a pure function of the step index s = 0, 1, …, steps − 1:
/// <list type="bullet">
/// <item>warmup (s &lt; warmup_steps): lr · (s + 1) / warmup_steps, so the first step is not wasted at 0 and the last warmup step reaches lr;</item>
/// <item>then, with p = (s − warmup_steps) / (steps − warmup_steps) ∈ [0, 1): cosine min_lr + (lr − min_lr)·(1 + cos πp)/2,
/// linear lr − (lr − min_lr)·p, constant lr. p reaches 1 (lr = min_lr) one step after the last, so no step is spent at min_lr
/// unless it is 0.</item>
/// </list>
/// </summary>
public static class LrSchedule
{
    /// <summary>The learning rate of step <paramref name="step"/> (0-based) of a run of <paramref name="steps"/> steps.</summary>
    public static double At(OptimizerOptions options, int step, int steps)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be >= 0");
        var warmup = options.WarmupSteps;
        if (step < warmup) return options.Lr * (step + 1) / warmup;
        var decaySteps = Math.Max(steps - warmup, 1);
        var p = Math.Min((double)(step - warmup) / decaySteps, 1.0);
        var (lr, min) = (options.Lr, options.MinLr);
        return options.Schedule switch
        {
            ScheduleKind.Cosine => min + (lr - min) * 0.5 * (1 + Math.Cos(Math.PI * p)),
            ScheduleKind.Linear => lr - (lr - min) * p,
            _ => lr,
        };
    }
}

/// <summary>How the learning rate moves from its peak to <c>min_lr</c> after the warmup (<c>schedule</c>).</summary>
public enum ScheduleKind
{
    /// <summary><c>cosine</c>: half a cosine wave from lr down to min_lr.</summary>
    Cosine,

    /// <summary><c>linear</c>: a straight line from lr down to min_lr.</summary>
    Linear,

    /// <summary><c>constant</c>: lr throughout (min_lr unused).</summary>
    Constant,
}
