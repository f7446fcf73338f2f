using System.Text.Json.Nodes;

namespace Distill.Bench;

/// <summary>
/// Median and interquartile range of repeated measurements: on a machine other processes load, the median of many
/// alternated samples is what stays put between runs, and the quartiles say how far a single sample strays.
/// </summary>
internal readonly record struct Spread(double Median, double Q1, double Q3, int Samples)
{
    /// <summary>Quartiles by linear interpolation between order statistics (numpy's default).</summary>
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no samples", nameof(values));
        return new Spread(At(sorted, 0.5), At(sorted, 0.25), At(sorted, 0.75), sorted.Length);
    }

    public JsonObject ToJson() => new() { ["median"] = Median, ["q1"] = Q1, ["q3"] = Q3, ["samples"] = Samples };

    private static double At(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
