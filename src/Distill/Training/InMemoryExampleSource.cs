namespace Distill.Training;

/// <summary>Tokenized examples held in memory (a tokenized JSONL file): plain SFT, no teacher.</summary>
/// <param name="name">Where the examples came from, for messages.</param>
/// <param name="examples">The examples.</param>
/// <param name="notes">What the user should hear about how they were read (examples cut or skipped), one line each.</param>
public sealed class InMemoryExampleSource(string name, IReadOnlyList<TrainingExample> examples, IReadOnlyList<string>? notes = null) : IExampleSource
{
    /// <summary>Lines to show before training: examples cut to the length limit, lines skipped.</summary>
    public IReadOnlyList<string> Notes => notes ?? [];

    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public long Count => examples.Count;

    /// <inheritdoc />
    public TrainingExample Example(long index) => examples[checked((int)index)];

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }
}
