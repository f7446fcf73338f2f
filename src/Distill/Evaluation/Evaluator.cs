using System.Globalization;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Training;

namespace Distill.Evaluation;

/// <summary>
/// Held-out metrics of a student on tokenized examples: cross-entropy, perplexity and token accuracy, and, given a
/// teacher (a model folder or a logit cache made from the same data), KL(teacher‖student) and top-1 agreement.
/// The work is <see cref="Validator.Run"/>, as in the trainer's validation; with a teacher model both models run on the same
/// micro-batches and the teacher's logits are projected chunk by chunk like the student's.
/// </summary>
public static class Evaluator
{
    private static readonly KdObjective MeasureKl = new(KdLossKind.FwdKl, KdWeight: 0, SftWeight: 1);

    /// <summary>Evaluates <paramref name="student"/>, against <paramref name="teacher"/>'s full vocabulary when given.</summary>
    /// <param name="student">The model evaluated.</param>
    /// <param name="examples">Tokenized with the student's tokenizer (and the teacher's, which must be the same).</param>
    /// <param name="teacher">Optional teacher model on the student's device.</param>
    /// <param name="microBatch">Examples per forward pass, ≥ 1.</param>
    /// <param name="chunkSize">Tokens per output-projection chunk, ≥ 1.</param>
    public static EvalResult Run(LlamaForCausalLM student, IReadOnlyList<TrainingExample> examples,
        LlamaForCausalLM? teacher = null, int microBatch = 4, int chunkSize = 1024)
    {
        CheckSizes(examples.Count, microBatch, chunkSize);
        using var source = new InMemoryExampleSource("held-out data", examples);
        using var live = teacher is null ? null : new ModelTeacher(teacher);
        var v = Validator.Run(student, source, teacher is null ? KdObjective.SftOnly : MeasureKl, microBatch, chunkSize, live);
        return teacher is null
            ? Result(examples.Count, v.Tokens, v.Sft, v.Accuracy, null, null, null)
            : Result(examples.Count, v.Tokens, v.Sft, v.Accuracy, v.Kd, "full", v.Top1Agreement);
    }

    /// <summary>
    /// Evaluates <paramref name="student"/> against a logit cache whose examples are <paramref name="examples"/>
    /// (same count, same input ids and loss masks, in order): KL is the trainer's fwd_kl over the cached top-K,
    /// and the teacher's top-1 is each row's first cached id.
    /// </summary>
    /// <exception cref="InvalidDataException">The cache was made from other data.</exception>
    public static EvalResult Run(LlamaForCausalLM student, IReadOnlyList<TrainingExample> examples,
        CacheExampleSource cache, int microBatch = 4, int chunkSize = 1024)
    {
        CheckSizes(examples.Count, microBatch, chunkSize);
        CheckSameExamples(examples, cache);
        using var cached = new CachedTeacher(cache);
        var v = Validator.Run(student, cache, MeasureKl, microBatch, chunkSize, cached);
        return Result(examples.Count, v.Tokens, v.Sft, v.Accuracy, v.Kd, string.Create(CultureInfo.InvariantCulture, $"top-{cache.TopK}"), v.Top1Agreement);
    }

    /// <summary>Throws unless <paramref name="cache"/> holds exactly <paramref name="examples"/>.</summary>
    /// <exception cref="InvalidDataException">Counts, input ids or loss masks differ (names the first differing example).</exception>
    public static void CheckSameExamples(IReadOnlyList<TrainingExample> examples, IExampleSource cache)
    {
        if (cache.Count != examples.Count)
            throw new InvalidDataException($"{cache.Name}: the cache holds {cache.Count} examples but the data has {examples.Count}; it was made from other data");
        for (var i = 0; i < examples.Count; i++)
        {
            var cached = cache.Example(i);
            if (!cached.InputIds.AsSpan().SequenceEqual(examples[i].InputIds))
                throw new InvalidDataException($"{cache.Name}: example {i} has other input ids than the data tokenized with the student's tokenizer; the cache was made from other data or another tokenizer/template");
            if (!cached.LossMask.AsSpan().SequenceEqual(examples[i].LossMask))
                throw new InvalidDataException($"{cache.Name}: example {i} supervises other tokens than the data (a different --supervise or template?)");
        }
    }

    private static EvalResult Result(long examples, long tokens, double loss, double accuracy, double? kl, string? support, double? agreement) =>
        new(examples, tokens, loss, Math.Exp(loss), accuracy, kl, support, agreement, null);

    private static void CheckSizes(int examples, int microBatch, int chunkSize)
    {
        if (examples == 0) throw new InvalidDataException("held-out data: no examples to evaluate");
        if (microBatch < 1) throw new ArgumentOutOfRangeException(nameof(microBatch), microBatch, "micro-batch must be >= 1");
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunk size must be >= 1");
    }
}
