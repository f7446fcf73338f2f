using Distill.Losses;
using Distill.Training;

namespace Distill.Teachers;

/// <summary>
/// A teacher the trainer can ask: for the supervised target rows of a packed micro-batch, what the teacher predicts
/// there. Implementations: <see cref="CachedTeacher"/> (top-K rows of a logit cache, offline KD) and
/// <see cref="ModelTeacher"/> (a live model: its full vocabulary projected chunk by chunk, or its top-K on the fly) and
/// <see cref="RemoteTeacher"/> (a server's top log-probabilities of given tokens, or each target's log-probability).
/// </summary>
public interface ITeacher : IDisposable
{
    /// <summary>What the teacher is (a folder, a cache, a URL), for messages and metrics.</summary>
    string Name { get; }

    /// <summary>
    /// The teacher's signal for <paramref name="batch"/>'s N target rows, in the order of <see cref="MicroBatch.HiddenRows"/>,
    /// on the batch's device; its tensors belong to the caller's dispose scope. Computed without gradients.
    /// </summary>
    /// <exception cref="InvalidDataException">The teacher cannot answer for these examples (names the example).</exception>
    TeacherSignal Signal(MicroBatch batch);
}
