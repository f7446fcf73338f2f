namespace Distill.Training;

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
