using Distill.Losses;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Evaluation;

/// <summary>
/// Evaluates a model on every example of a source, in index order, without gradients: the one held-out measurement, which
/// the trainer's validation, <c>distill eval</c> (<see cref="Evaluator"/>) and the demo call.
/// </summary>
public static class Validator
{
    /// <summary>
    /// Loss parts from <see cref="ChunkedLoss.Evaluate"/>, plus token accuracy and top-1 agreement with the teacher
    /// from the argmax of each chunk's logits (so [tokens × vocab] never exists at once here either). The teacher, when
    /// given, answers per micro-batch (a live model's hidden states are projected chunk by chunk like the model's). With
    /// a teacher the KD part is measured even when kd_weight is 0, so an SFT baseline reports how far it is from the teacher.
    /// </summary>
    /// <param name="model">The model evaluated.</param>
    /// <param name="source">The examples, in index order.</param>
    /// <param name="objective">The loss reported as <see cref="ValidationResult.Loss"/>.</param>
    /// <param name="microBatch">Examples per forward pass, ≥ 1.</param>
    /// <param name="chunkSize">Tokens per output-projection chunk, ≥ 1.</param>
    /// <param name="teacher">Optional teacher of the same examples (a cache of this source, or a model sharing the tokenizer).</param>
    /// <exception cref="InvalidDataException">kd_weight &gt; 0 but there is no teacher.</exception>
    public static ValidationResult Run(LlamaForCausalLM model, IExampleSource source, KdObjective objective, int microBatch, int chunkSize,
        Teachers.ITeacher? teacher = null)
    {
        var sums = new LossSums();
        long correct = 0, agree = 0;
        using var noGrad = no_grad();
        for (long start = 0; start < source.Count; start += microBatch)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(0, (int)Math.Min(microBatch, source.Count - start)).Select(i => start + i).ToArray();
            var batch = MicroBatch.Build(source, indices, model.Device);
            if (batch.SupervisedTokens == 0) continue;
            var hidden = batch.Hidden(model);                                                       // [N, H]
            var targets = batch.Targets(teacher?.Signal(batch));
            sums += ChunkedLoss.Evaluate(hidden, model.LmHeadWeight, targets, objective, chunkSize);
            var (c, a) = Argmax(hidden, model.LmHeadWeight, targets, chunkSize);
            correct += c;
            agree += a;
        }
        var mean = sums.Mean();
        var tokens = (long)sums.Tokens;
        var denominator = Math.Max(tokens, 1);
        return new ValidationResult(mean.Total, mean.Kd, mean.Sft, (double)correct / denominator,
            teacher is not null ? (double)agree / denominator : null, tokens);
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
            if (targets.Teacher?.Slice(start, length) is { } teacher)
                agree += predicted.eq(TeacherTop1(teacher)).sum().item<long>();
        }
        return (correct, agree);
    }

    // [c] the teacher's most likely token per row: the first cached id (cache rows are sorted by logit), or the argmax
    // of this chunk's teacher logits.
    private static Tensor TeacherTop1(TeacherSignal teacher) => teacher.IsTopK
        ? teacher.TopkIds!.select(1, 0).to_type(ScalarType.Int64)
        : teacher.FullLogitsNoGrad().argmax(1);
}
