namespace Distill.Training;

/// <summary>Random access to training examples (a logit cache's teacher rows come through <see cref="Teachers.CachedTeacher"/>).</summary>
public interface IExampleSource : IDisposable
{
    /// <summary>Where the examples come from (a folder or file), for messages.</summary>
    string Name { get; }

    /// <summary>Number of examples.</summary>
    long Count { get; }

    /// <summary>Example <paramref name="index"/>.</summary>
    TrainingExample Example(long index);

}
