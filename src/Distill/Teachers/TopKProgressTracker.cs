using System.Diagnostics;
using Distill.LogitCache;

namespace Distill.Teachers;

/// <summary>Turns a run's events (tokens computed, examples written) into <see cref="TopKProgress"/> reports for its slice.</summary>
internal sealed class TopKProgressTracker
{
    private readonly long[] _prefix; // token counts before each example
    private readonly long _first;
    private readonly long _end;
    private readonly IProgress<TopKProgress>? _progress;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _done;
    private long _thisRun;

    public TopKProgressTracker(LogitCacheWriter writer, List<int> lengths, IProgress<TopKProgress>? progress)
    {
        _prefix = new long[lengths.Count + 1];
        for (var i = 0; i < lengths.Count; i++) _prefix[i + 1] = _prefix[i] + lengths[i];
        _first = writer.FirstExample;
        _end = writer.EndExample;
        _done = writer.NextExample;
        _progress = progress;
        Report();
    }

    public void Computed(long tokens)
    {
        _thisRun += tokens;
        Report();
    }

    public void Written(long next)
    {
        _done = Math.Max(_done, next);
        Report();
    }

    private void Report() => _progress?.Report(new TopKProgress(_done - _first, _end - _first, _prefix[_done] - _prefix[_first],
        _prefix[_end] - _prefix[_first], _thisRun, _clock.Elapsed));
}

/// <summary>Where a <c>distill topk</c> run stands; counts cover the run's slice.</summary>
/// <param name="ExamplesDone">Examples written (those a resumed run found complete included).</param>
/// <param name="ExamplesTotal">Examples in the slice.</param>
/// <param name="TokensDone">Tokens of the examples written.</param>
/// <param name="TokensTotal">Tokens in the slice.</param>
/// <param name="TokensThisRun">Tokens the teacher processed in this run (the base of a throughput figure).</param>
/// <param name="Elapsed">Time since the teacher started.</param>
public sealed record TopKProgress(long ExamplesDone, long ExamplesTotal, long TokensDone, long TokensTotal, long TokensThisRun, TimeSpan Elapsed)
{
    /// <summary>Tokens per second in this run, 0 before any.</summary>
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? TokensThisRun / Elapsed.TotalSeconds : 0;

    /// <summary>Estimated time to the end of the slice at the current rate; null before a rate is known.</summary>
    public TimeSpan? Remaining => TokensPerSecond > 0 ? TimeSpan.FromSeconds((TokensTotal - TokensDone) / TokensPerSecond) : null;
}
