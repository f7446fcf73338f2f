using Distill.Losses;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>One global batch's forward and backward passes, micro-batch by micro-batch, accumulating into <c>.grad</c>.</summary>
public static class GradientAccumulator
{
    /// <summary>
    /// Adds the gradient of the global-batch objective over <paramref name="indices"/> to the compute model's
    /// <c>.grad</c> (the caller zeroes them first). The normaliser, max(Σ supervised tokens of all of
    /// <paramref name="indices"/>, 1), is counted before any forward pass, so any <paramref name="microBatch"/> gives the
    /// gradient of one big batch. Micro-batches without targets are skipped (they contribute nothing).
    /// </summary>
    /// <returns>The objective and its parts over the global batch, and the real tokens processed.</returns>
    public static (double Loss, double Kd, double Sft, long Tokens) Accumulate(Distill.Models.LlamaForCausalLM model, IExampleSource source,
        IReadOnlyList<long> indices, int microBatch, KdObjective objective, int chunkSize, Teachers.ITeacher? teacher = null)
    {
        var micro = indices.Chunk(microBatch).ToArray();
        var supervised = micro.Select(m => m.Sum(i => (long)source.Example(i).SupervisedCount)).ToArray();
        var normaliser = LossReduction.Normaliser(supervised.Sum());
        double loss = 0, kd = 0, sft = 0;
        long tokens = 0;
        for (var m = 0; m < micro.Length; m++)
        {
            if (supervised[m] == 0) continue;
            using var scope = NewDisposeScope();
            var batch = MicroBatch.Build(source, micro[m], model.Device);
            tokens += batch.Tokens;
            var targets = batch.Targets(teacher?.Signal(batch));
            var hidden = batch.Hidden(model);                                                 // [N, H]
            var result = ChunkedLoss.Backward(hidden, model.LmHeadWeight, targets, objective, chunkSize, normaliser);
            hidden.backward(new[] { result.HiddenGrad });
            (loss, kd, sft) = (loss + result.Loss, kd + result.Kd, sft + result.Sft);
        }
        return (loss, kd, sft, tokens);
    }
}
