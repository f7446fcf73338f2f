using System.Diagnostics;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Examples of a global batch trained with one objective: from the data set (<see cref="Indices"/> into the source, so
/// a cached teacher can answer) or made during the step (sampled completions, <see cref="Indices"/> null).
/// </summary>
/// <param name="Examples">The examples.</param>
/// <param name="Indices">Their indices in the training source, or null.</param>
/// <param name="Objective">The objective of these examples (on-policy samples train without the SFT term).</param>
public sealed record BatchPart(IReadOnlyList<TrainingExample> Examples, IReadOnlyList<long>? Indices, KdObjective Objective);

/// <summary>What one global batch's forward and backward passes measured.</summary>
/// <param name="Loss">The objective over the global batch.</param>
/// <param name="Kd">Its KD part.</param>
/// <param name="Sft">Its CE part.</param>
/// <param name="Tokens">Real tokens processed.</param>
/// <param name="TeacherSeconds">Wall time spent asking the teacher.</param>
/// <param name="Feature">The feature term over the global batch (before its weight); 0 without one.</param>
public sealed record Accumulation(double Loss, double Kd, double Sft, long Tokens, double TeacherSeconds, double Feature = 0);

/// <summary>One global batch's forward and backward passes, micro-batch by micro-batch, accumulating into <c>.grad</c>.</summary>
public static class GradientAccumulator
{
    /// <summary>
    /// Adds the gradient of the global-batch objective over <paramref name="indices"/> of <paramref name="source"/> to the
    /// compute model's <c>.grad</c> (the caller zeroes them first); see <see cref="Accumulate(LlamaForCausalLM, IReadOnlyList{BatchPart}, int, int, ITeacher?, FeatureDistillation?)"/>.
    /// </summary>
    /// <returns>The objective and its parts over the global batch, and the real tokens processed.</returns>
    public static (double Loss, double Kd, double Sft, long Tokens) Accumulate(LlamaForCausalLM model, IExampleSource source,
        IReadOnlyList<long> indices, int microBatch, KdObjective objective, int chunkSize, ITeacher? teacher = null)
    {
        var part = new BatchPart(indices.Select(source.Example).ToArray(), indices, objective);
        var r = Accumulate(model, [part], microBatch, chunkSize, teacher);
        return (r.Loss, r.Kd, r.Sft, r.Tokens);
    }

    /// <summary>
    /// Adds the gradient of the global-batch objective over every part's examples to the compute model's <c>.grad</c>.
    /// The normaliser, max(Σ supervised tokens of all parts, 1), is counted before any forward pass, so any
    /// <paramref name="microBatch"/> gives the gradient of one big batch. Micro-batches without targets are skipped
    /// (they contribute nothing). The teacher answers each micro-batch before the student's forward pass, under no-grad.
    /// With <paramref name="features"/> the live teacher is asked through it (one forward pass for its signal and its
    /// mapped layers), and weight·Σ feature / (its rows over the global batch) joins the objective.
    /// </summary>
    public static Accumulation Accumulate(LlamaForCausalLM model, IReadOnlyList<BatchPart> parts, int microBatch, int chunkSize, ITeacher? teacher,
        FeatureDistillation? features = null)
    {
        var micro = parts.SelectMany(p => Enumerable.Range(0, p.Examples.Count).Chunk(microBatch)
            .Select(rows => (Part: p, Examples: rows.Select(i => p.Examples[i]).ToArray(), Indices: p.Indices is { } ix ? rows.Select(i => ix[i]).ToArray() : null)))
            .ToArray();
        var supervised = micro.Select(m => m.Examples.Sum(e => (long)e.SupervisedCount)).ToArray();
        var normaliser = LossReduction.Normaliser(supervised.Sum());
        var featureNormaliser = features is null ? 1 : LossReduction.Normaliser(micro.Where((_, m) => supervised[m] > 0).Sum(m => features.Rows(m.Examples)));
        double loss = 0, kd = 0, sft = 0, feature = 0, teacherSeconds = 0;
        long tokens = 0;
        for (var m = 0; m < micro.Length; m++)
        {
            if (supervised[m] == 0) continue;
            using var scope = NewDisposeScope();
            var batch = MicroBatch.Pack(micro[m].Examples, model.Device, micro[m].Indices);
            tokens += batch.Tokens;
            var asked = Stopwatch.GetTimestamp();
            var (signal, layers) = features is null ? (teacher?.Signal(batch), null) : features.AskTeacher(batch);
            teacherSeconds += Stopwatch.GetElapsedTime(asked).TotalSeconds;
            var output = features?.StudentForward(batch, model) ?? batch.Forward(model);
            var hidden = MicroBatch.Rows(output.LastHiddenState, batch.HiddenRows);            // [N, H]
            var result = ChunkedLoss.Backward(hidden, model.LmHeadWeight, batch.Targets(signal), micro[m].Part.Objective, chunkSize, normaliser);
            (loss, kd, sft) = (loss + result.Loss, kd + result.Kd, sft + result.Sft);
            if (features is null)
            {
                hidden.backward(new[] { result.HiddenGrad });
                continue;
            }
            var term = features.Sum(batch, output, layers!) / featureNormaliser;
            // One backward pass for both: the loss's gradient enters at the final states, the feature term's through its graph.
            autograd.backward([hidden, term], [result.HiddenGrad, tensor(features.Weight, ScalarType.Float32, term.device)]);
            var value = term.item<float>();
            (loss, feature) = (loss + features.Weight * value, feature + value);
        }
        return new Accumulation(loss, kd, sft, tokens, teacherSeconds, feature);
    }
}
