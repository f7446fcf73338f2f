using Distill.LogitCache;

namespace Distill.Training;

/// <summary>Random access to training examples and, for a logit cache, the teacher's top-K rows of their targets.</summary>
public interface IExampleSource : IDisposable
{
    /// <summary>Where the examples come from (a folder or file), for messages.</summary>
    string Name { get; }

    /// <summary>Number of examples.</summary>
    long Count { get; }

    /// <summary>True when <see cref="LoadTeacher"/> can be called (a logit cache).</summary>
    bool HasTeacher { get; }

    /// <summary>Example <paramref name="index"/>.</summary>
    TrainingExample Example(long index);

    /// <summary>
    /// The teacher rows of <paramref name="indices"/>' targets, concatenated in that order; within an example, one row per
    /// target position j (ascending), as <see cref="TrainingExample.SupervisedCount"/> counts them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source has no teacher.</exception>
    TopKBatch LoadTeacher(IReadOnlyList<long> indices);
}
