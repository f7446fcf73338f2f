using Distill.Losses;
using Distill.Teachers;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Random training examples of one length, supervised from <c>supervisedFrom</c> on (a prompt, then a response), with
/// optional synthetic teacher top-K rows per supervised target (distinct ids, descending max-subtracted logits, a
/// log-sum-exp above the top-K's), so the trainer's KD path runs without a logit cache on disk.
/// </summary>
internal sealed class SyntheticTrainingSource : IExampleSource, ITeacher
{
    private readonly TrainingExample[] _examples;
    private readonly (Tensor Ids, Tensor Logits, Tensor Lse)[] _teacher;

    public SyntheticTrainingSource(int count, int seqLen, int supervisedFrom, int vocab, int topK, bool withTeacher, int seed)
    {
        var random = new Random(seed);
        var mask = Enumerable.Range(0, seqLen).Select(j => (byte)(j >= Math.Max(1, supervisedFrom) ? 1 : 0)).ToArray();
        _examples = Enumerable.Range(0, count)
            .Select(_ => new TrainingExample(Enumerable.Range(0, seqLen).Select(_ => random.Next(vocab)).ToArray(), mask))
            .ToArray();
        HasTeacher = withTeacher;
        _teacher = withTeacher ? _examples.Select(e => TeacherRows(e.SupervisedCount, vocab, topK)).ToArray() : [];
    }

    public string Name => "synthetic";

    public long Count => _examples.Length;

    public bool HasTeacher { get; }

    public TrainingExample Example(long index) => _examples[index];

    /// <summary>The teacher of the KD runs; null without teacher rows.</summary>
    public ITeacher? Teacher => HasTeacher ? this : null;

    public TeacherSignal Signal(MicroBatch batch)
    {
        var rows = batch.Indices!.Select(i => _teacher[i]).ToArray();
        return TeacherSignal.TopK(cat(rows.Select(r => r.Ids).ToArray(), 0), cat(rows.Select(r => r.Logits).ToArray(), 0),
            cat(rows.Select(r => r.Lse).ToArray(), 0));
    }

    public void Dispose()
    {
        foreach (var (ids, logits, lse) in _teacher)
        {
            ids.Dispose();
            logits.Dispose();
            lse.Dispose();
        }
    }

    // ids [R, K] int64, logits [R, K] float32 descending with row max 0, lse [R] float32.
    private static (Tensor Ids, Tensor Logits, Tensor Lse) TeacherRows(int rows, int vocab, int topK)
    {
        using var scope = NewDisposeScope();
        var ids = rand(rows, vocab).topk(topK, dim: 1).indexes;
        var sorted = (randn(rows, topK) * 3).sort(1, descending: true).Values;
        var logits = sorted - sorted.narrow(1, 0, 1);
        var lse = logits.logsumexp(1) + 0.5;
        return (ids.DetachFromDisposeScope(), logits.DetachFromDisposeScope(), lse.DetachFromDisposeScope());
    }
}
