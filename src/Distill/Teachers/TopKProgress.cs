namespace Distill.Teachers;

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
