using Distill.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Examples padded on the right to the longest one, with the supervised targets gathered: target j of example b
/// (token ids[b, j], j ≥ 1, mask[b, j] = 1) is predicted from the hidden state at position j − 1, i.e. row
/// b·T + j − 1 of the flattened [B·T, H] hidden states. Rows are ordered by example, then position, which is the
/// order of the cache's teacher rows. The tensors belong to the dispose scope current at <see cref="Build"/>.
/// </summary>
public sealed class MicroBatch
{
    private MicroBatch(Tensor inputIds, Tensor? attentionMask, Tensor hiddenRows, LossTargets targets, long tokens)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        HiddenRows = hiddenRows;
        Targets = targets;
        Tokens = tokens;
    }

    /// <summary>The id written into padding positions (any valid id: padded positions are masked out of attention and loss).</summary>
    public const int PadId = 0;

    /// <summary>[B, T] int64 token ids, right-padded with <see cref="PadId"/>.</summary>
    public Tensor InputIds { get; }

    /// <summary>[B, T] int64, 1 for real tokens and 0 for padding; null when no example is padded.</summary>
    public Tensor? AttentionMask { get; }

    /// <summary>[N] int64 rows of the flattened [B·T, H] hidden states that predict the N targets.</summary>
    public Tensor HiddenRows { get; }

    /// <summary>[N] labels (every row counts, so no mask) and the teacher's [N, K] rows when the source has a teacher.</summary>
    public LossTargets Targets { get; }

    /// <summary>N, the supervised targets in this micro-batch.</summary>
    public long SupervisedTokens => Targets.Rows;

    /// <summary>Real (non-padding) tokens in this micro-batch.</summary>
    public long Tokens { get; }

    /// <summary>Pads <paramref name="indices"/>' examples, gathers their targets and, when asked, their teacher rows.</summary>
    /// <exception cref="InvalidDataException">The teacher's rows of an example do not match its supervised targets.</exception>
    public static MicroBatch Build(IExampleSource source, IReadOnlyList<long> indices, Device device, bool withTeacher)
    {
        var examples = indices.Select(source.Example).ToArray();
        var width = examples.Max(e => e.InputIds.Length);
        var ids = new long[examples.Length * width];
        var attention = new long[ids.Length];
        var rows = new List<long>();
        var labels = new List<long>();
        for (var b = 0; b < examples.Length; b++)
        {
            var e = examples[b];
            for (var j = 0; j < e.InputIds.Length; j++)
            {
                ids[b * width + j] = e.InputIds[j];
                attention[b * width + j] = 1;
                if (j == 0 || e.LossMask[j] == 0) continue;
                rows.Add(b * width + j - 1);
                labels.Add(e.InputIds[j]);
            }
        }
        var teacher = withTeacher ? Teacher(source, indices, examples, device) : null;
        var padded = examples.Any(e => e.InputIds.Length < width);
        var shape = new long[] { examples.Length, width };
        return new MicroBatch(
            tensor(ids).reshape(shape).to(device),
            padded ? tensor(attention).reshape(shape).to(device) : null,
            tensor(rows.ToArray()).to(device),
            new LossTargets(tensor(labels.ToArray()).to(device), null, teacher),
            attention.Sum());
    }

    private static TeacherSignal Teacher(IExampleSource source, IReadOnlyList<long> indices, TrainingExample[] examples, Device device)
    {
        var batch = source.LoadTeacher(indices);
        for (var i = 0; i < examples.Length; i++)
            if (batch.RowCounts[i] != examples[i].SupervisedCount)
                throw new InvalidDataException($"{source.Name}: example {indices[i]} has {examples[i].SupervisedCount} supervised targets but {batch.RowCounts[i]} teacher rows");
        return TeacherSignal.TopK(batch.Ids.to(device), batch.Logits.to(device), batch.LogSumExp.to(device));
    }
}
