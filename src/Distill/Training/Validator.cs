using Distill.Losses;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Evaluates a model on every example of a source, in index order, without gradients.</summary>
public static class Validator
{
    /// <summary>
    /// Loss parts from <see cref="ChunkedLoss.Evaluate"/>, plus token accuracy and top-1 agreement with the teacher
    /// from the argmax of each chunk's logits (so [tokens × vocab] never exists at once here either). With a cache the
    /// KD part is measured even when kd_weight is 0, so an SFT baseline reports how far it is from the teacher.
    /// </summary>
    /// <exception cref="InvalidDataException">kd_weight &gt; 0 but the source has no teacher.</exception>
    public static ValidationResult Run(LlamaForCausalLM model, IExampleSource source, KdObjective objective, int microBatch, int chunkSize)
    {
        var sums = new LossSums();
        long correct = 0, agree = 0;
        using var noGrad = no_grad();
        for (long start = 0; start < source.Count; start += microBatch)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(0, (int)Math.Min(microBatch, source.Count - start)).Select(i => start + i).ToArray();
            var batch = MicroBatch.Build(source, indices, model.Device, source.HasTeacher);
            if (batch.SupervisedTokens == 0) continue;
            var hidden = Hidden(model, batch);                                                      // [N, H]
            sums += ChunkedLoss.Evaluate(hidden, model.LmHeadWeight, batch.Targets, objective, chunkSize);
            var (c, a) = Argmax(hidden, model.LmHeadWeight, batch.Targets, chunkSize);
            correct += c;
            agree += a;
        }
        var mean = sums.Mean();
        var tokens = (long)sums.Tokens;
        var denominator = Math.Max(tokens, 1);
        return new ValidationResult(mean.Total, mean.Kd, mean.Sft, (double)correct / denominator,
            source.HasTeacher ? (double)agree / denominator : null, tokens);
    }

    /// <summary>[N, H] final hidden states at the rows that predict the batch's targets.</summary>
    internal static Tensor Hidden(LlamaForCausalLM model, MicroBatch batch)
    {
        var output = model.Forward(new CausalLMInput { InputIds = batch.InputIds, AttentionMask = batch.AttentionMask, ComputeLogits = false });
        var h = output.LastHiddenState;                                                             // [B, T, H]
        return h.reshape(-1, h.shape[2]).index_select(0, batch.HiddenRows);
    }

    private static (long Correct, long Agree) Argmax(Tensor hidden, Tensor weight, LossTargets targets, int chunkSize)
    {
        long correct = 0, agree = 0;
        for (long start = 0; start < targets.Rows; start += chunkSize)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(chunkSize, targets.Rows - start);
            var predicted = hidden.narrow(0, start, length).matmul(weight.t()).argmax(1);           // [c]
            correct += predicted.eq(targets.Labels.narrow(0, start, length)).sum().item<long>();
            if (targets.Teacher?.TopkIds is { } ids)
                agree += predicted.eq(ids.narrow(0, start, length).select(1, 0).to_type(ScalarType.Int64)).sum().item<long>();
        }
        return (correct, agree);
    }
}
