using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// What the student is trained towards at N token positions: the next-token labels, which positions count,
/// and the teacher's signal. Borrows its tensors; never disposes them.
/// </summary>
public sealed class LossTargets
{
    /// <summary>Creates targets; <paramref name="mask"/> null means every row counts.</summary>
    /// <param name="labels">[N] int64/int32 next-token ids (negative = ignored).</param>
    /// <param name="mask">[N] loss mask (bool, uint8 or float weights), or null.</param>
    /// <param name="teacher">Teacher signal for the same N rows, or null for plain SFT.</param>
    public LossTargets(Tensor labels, Tensor? mask = null, TeacherSignal? teacher = null)
    {
        if (labels.dim() != 1) throw new ArgumentException($"labels [{string.Join(", ", labels.shape)}] must be [N]");
        if (mask is not null && (mask.dim() != 1 || mask.shape[0] != labels.shape[0]))
            throw new ArgumentException($"loss mask [{string.Join(", ", mask.shape)}] must be [{labels.shape[0]}]");
        if (teacher is not null && teacher.Rows != labels.shape[0])
            throw new ArgumentException($"teacher signal has {teacher.Rows} rows but labels have {labels.shape[0]}");
        Labels = labels;
        Mask = mask;
        Teacher = teacher;
    }

    /// <summary>[N] next-token labels.</summary>
    public Tensor Labels { get; }

    /// <summary>[N] loss mask or null (all rows count).</summary>
    public Tensor? Mask { get; }

    /// <summary>The teacher's signal, or null for plain SFT.</summary>
    public TeacherSignal? Teacher { get; }

    /// <summary>Number of rows N.</summary>
    public long Rows => Labels.shape[0];

    /// <summary>
    /// Checks, with one read back to the host, that every label (negative ones are ignored rows) and every teacher
    /// top-K id indexes a vocabulary of <paramref name="vocabSize"/>: the boundary check that lets the per-chunk loss
    /// loop run without any (<see cref="ChunkedLoss"/> calls it once per micro-batch).
    /// </summary>
    /// <exception cref="InvalidDataException">An id is outside [0, vocabSize); names labels or topk_ids and the id.</exception>
    public void CheckIds(long vocabSize)
    {
        var ids = Teacher?.TopkIds;
        bool hasLabels = Labels.numel() > 0, hasIds = ids is not null && ids.numel() > 0;
        if (!hasLabels && !hasIds) return;
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        if (hasLabels) parts.Add(Labels.max().to_type(ScalarType.Int64));
        if (hasIds) parts.AddRange(new[] { ids!.min().to_type(ScalarType.Int64), ids.max().to_type(ScalarType.Int64) });
        var range = LossMath.ReadToHost<long>(stack(parts));                                    // the one host read
        if (hasLabels) LossMath.ThrowIfOutside("labels", 0, range[0], vocabSize);
        if (hasIds) LossMath.ThrowIfOutside("topk_ids", range[^2], range[^1], vocabSize);
    }

    /// <summary>Rows [start, start + length) as views, owned by the current dispose scope.</summary>
    public LossTargets Slice(long start, long length) => new(
        Labels.narrow(0, start, length), Mask?.narrow(0, start, length), Teacher?.Slice(start, length));
}
