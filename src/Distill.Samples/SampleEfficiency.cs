namespace Distill.Samples;

/// <summary>
/// The sample-efficiency figure from learning curves: how far into its S-step run KD+SFT first reaches SFT's final
/// held-out loss (or answer accuracy), as a fraction of S. Between measured points the curve is taken as linear;
/// before the first point nothing is known, so a curve already at the target there matches at its first step.
/// </summary>
public static class SampleEfficiency
{
    /// <summary>
    /// The first step (interpolated) at which <paramref name="curve"/> reaches <paramref name="target"/>, divided by
    /// <paramref name="totalSteps"/>; null when it never does.
    /// </summary>
    /// <param name="curve">(step, value) in increasing step order.</param>
    /// <param name="target">The value to reach.</param>
    /// <param name="lowerIsBetter">True for a loss (reach means ≤ target), false for an accuracy (≥ target).</param>
    /// <param name="totalSteps">S, the steps the fraction is of.</param>
    public static double? FractionToMatch(IReadOnlyList<(int Step, double Value)> curve, double target, bool lowerIsBetter, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        bool Reached(double v) => lowerIsBetter ? v <= target : v >= target;
        for (int i = 0; i < curve.Count; i++)
        {
            var (step, value) = curve[i];
            if (!Reached(value)) continue;
            if (i == 0) return (double)step / totalSteps;
            var (prevStep, prevValue) = curve[i - 1];
            // prevValue misses the target and value reaches it, so value != prevValue and t is in (0, 1].
            double t = (target - prevValue) / (value - prevValue);
            return (prevStep + t * (step - prevStep)) / totalSteps;
        }
        return null;
    }

    /// <summary>The mean over seeds of the runs' curves at each step they all share (NaN-free values only).</summary>
    /// <param name="runs">Runs of one method, one per seed, with curves over the same steps.</param>
    /// <param name="value">Which number of a point to average; null skips the point.</param>
    public static IReadOnlyList<(int Step, double Value)> MeanCurve(IReadOnlyList<DemoRun> runs, Func<CurvePoint, double?> value)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(value);
        if (runs.Count == 0) return [];
        var perRun = runs.Select(r => r.Curve.Where(p => value(p) is { } v && double.IsFinite(v)).ToDictionary(p => p.Step, p => value(p)!.Value)).ToList();
        var shared = perRun.Skip(1).Aggregate(perRun[0].Keys.ToHashSet(), (steps, next) => { steps.IntersectWith(next.Keys); return steps; });
        return [.. shared.Order().Select(s => (s, perRun.Average(r => r[s])))];
    }
}
