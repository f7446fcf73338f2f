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

/// <summary>One tokenized training example: token ids and which of them are supervised targets.</summary>
/// <param name="InputIds">Token ids, [T], T ≥ 1.</param>
/// <param name="LossMask">1 where the token is a target, [T]. Position 0 is never a target (nothing precedes it) and is ignored.</param>
public sealed record TrainingExample(int[] InputIds, byte[] LossMask)
{
    /// <summary>The supervised targets: positions j ≥ 1 with <c>LossMask[j] != 0</c>.</summary>
    public int SupervisedCount
    {
        get
        {
            var count = 0;
            for (var j = 1; j < LossMask.Length; j++)
                if (LossMask[j] != 0) count++;
            return count;
        }
    }
}
