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
