using System.Globalization;
using Distill.Losses;

namespace Distill.Samples;

/// <summary>
/// The sweeps behind samples/README.md's tables (<c>distill demo --sweep lr|objective</c>): every plan runs S steps
/// from each seed's shared initialisation, so rows differ only in what the sweep varies.
/// </summary>
public static class DemoSweeps
{
    /// <summary>The plans of a sweep.</summary>
    /// <param name="kind">lr: SFT and KD+SFT at each of <paramref name="lrs"/>; objective: KD+SFT variants at the demo's KD lr.</param>
    /// <param name="options">The demo's settings (S, the objective, the learning rates).</param>
    /// <param name="lrs">Comma-separated learning rates for the lr sweep.</param>
    public static IReadOnlyList<Demo.Plan> Plans(string kind, DemoOptions options, string lrs)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lrs);
        int s = options.Steps;
        var kd = options.Kd;
        return kind switch
        {
            "lr" => [.. lrs.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture))
                .SelectMany(lr => new Demo.Plan[] { new($"sft lr={lr:G3}", KdObjective.SftOnly, lr, s), new($"kd+sft lr={lr:G3}", kd, lr, s) })],
            "objective" =>
            [
                new("sft", KdObjective.SftOnly, options.SftLr, s),
                new("kd+sft", kd, options.KdLr, s),
                new("sft weight 0.1", kd with { SftWeight = 0.1 }, options.KdLr, s),
                new("sft weight 1", kd with { SftWeight = 1.0 }, options.KdLr, s),
                new("tail_fwd_kl", kd with { Kind = KdLossKind.TailFwdKl, Temperature = 1, TSquared = false }, options.KdLr, s),
                kd.Temperature == 1
                    ? new("temperature 2", kd with { Temperature = 2, TSquared = true }, options.KdLr, s)
                    : new("temperature 1", kd with { Temperature = 1, TSquared = false }, options.KdLr, s),
                new("K=4", kd, options.KdLr, s, TopK: 4),
            ],
            _ => throw new ArgumentException($"distill demo --sweep: unknown sweep '{kind}' (lr or objective)", nameof(kind)),
        };
    }
}
