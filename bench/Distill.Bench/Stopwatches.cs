using System.Diagnostics;

namespace Distill.Bench;

/// <summary>Times an action: warm-up runs first, then the median of the measured runs (the machines are shared, so the median is steadier than the mean).</summary>
internal static class Stopwatches
{
    public static double MedianSeconds(Action action, int warmup, int runs)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
