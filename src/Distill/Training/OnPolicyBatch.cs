using System.Diagnostics;
using Distill.Evaluation;
using Distill.Generation;
using Distill.Losses;
using Distill.Models;
using Distill.Text.Conversations;

namespace Distill.Training;

/// <summary>What the sampling of one on-policy step made.</summary>
/// <param name="Completions">Completions sampled (by the student, or with seq_kd the teacher).</param>
/// <param name="Tokens">Tokens in them, stop tokens included.</param>
/// <param name="Seconds">Wall time of the sampling.</param>
public sealed record GenerationStats(int Completions, long Tokens, double Seconds)
{
    /// <summary>Mean completion length in tokens (0 when nothing was sampled).</summary>
    public double MeanLength => Completions > 0 ? (double)Tokens / Completions : 0;
}

/// <summary>
/// The examples of one on-policy (GKD) step. Every example is split into its prompt (the conversation up to its last
/// assistant turn) and completion (that turn). A seeded choice of round(λ·G) of the G examples get a completion the
/// student samples now with its current weights, trained with the KD term only (SFT on the student's own samples would
/// teach it its own mistakes); the others keep the dataset's completion, or with seq_kd one the teacher samples, trained
/// with the full objective. The loss covers completion tokens only. Both choices and samples are functions of
/// (seed, step), so a resumed run samples what the uninterrupted run sampled, with nothing to store in the checkpoint.
/// </summary>
public sealed class OnPolicyBatch(OnlineOptions options, KdObjective objective, IReadOnlyCollection<int> stopIds, long seed, int microBatch)
{
    /// <summary>Stop ids for a student folder: the config's eos ids and the chat template's single-token end-of-turn markers.</summary>
    public static IReadOnlyCollection<int> StopIds(string studentDir, string? chatFormat, LlamaConfig config)
    {
        if (!File.Exists(Path.Combine(studentDir, "tokenizer.json"))) return [.. config.EosTokenId ?? []];
        return GenerationEval.StopIds(config, ChatTokenizer.Load(studentDir, chatFormat));
    }

    /// <summary>The parts of step <paramref name="step"/>'s global batch, sampling with <paramref name="student"/> (and <paramref name="teacher"/> for seq_kd).</summary>
    /// <exception cref="InvalidDataException">An example has no supervised turn, or its prompt leaves no room for new tokens.</exception>
    public (IReadOnlyList<BatchPart> Parts, GenerationStats Stats) Build(IExampleSource source, IReadOnlyList<long> indices, int step,
        LlamaForCausalLM student, LlamaForCausalLM? teacher)
    {
        var started = Stopwatch.GetTimestamp();
        var split = indices.Select(i => Split(source, i, student.Config.MaxPositionEmbeddings)).ToArray();
        var sampledCount = (int)Math.Round(options.Lambda * indices.Count, MidpointRounding.AwayFromZero);
        var stepSeed = unchecked(seed * 1_000_003 + step);
        var chosen = new HashSet<long>(new DataOrder(indices.Count, stepSeed).Range(0, sampledCount));
        var random = new SamplingRandom(stepSeed);
        var onPolicy = Enumerable.Range(0, indices.Count).Where(k => chosen.Contains(k)).ToArray();
        var offPolicy = Enumerable.Range(0, indices.Count).Where(k => !chosen.Contains(k)).ToArray();
        var ownSamples = Complete(student, onPolicy.Select(k => split[k]).ToArray(), random);
        var others = options.SeqKd
            ? Complete(teacher ?? throw new InvalidOperationException("seq_kd needs a live teacher model"), offPolicy.Select(k => split[k]).ToArray(), random)
            : offPolicy.Select(k => Example(split[k].Prompt, split[k].Completion)).ToArray();
        var parts = new List<BatchPart>();
        if (ownSamples.Length > 0) parts.Add(new BatchPart(ownSamples, null, objective with { SftWeight = 0 }));
        if (others.Length > 0) parts.Add(new BatchPart(others, options.SeqKd ? null : offPolicy.Select(k => indices[k]).ToArray(), objective));
        var sampled = options.SeqKd ? ownSamples.Concat(others).ToArray() : ownSamples;
        var stats = new GenerationStats(sampled.Length, sampled.Sum(e => (long)e.SupervisedCount), Stopwatch.GetElapsedTime(started).TotalSeconds);
        return (parts, stats);
    }

    private TrainingExample[] Complete(LlamaForCausalLM model, (int[] Prompt, int[] Completion, int Room)[] rows, SamplingRandom random)
    {
        var made = new List<TrainingExample>();
        foreach (var chunk in rows.Chunk(microBatch))
        {
            var sampling = new SamplingOptions
            {
                Temperature = options.GenTemperature, TopP = options.GenTopP, TopK = options.GenTopK, StopIds = stopIds,
                MaxNewTokens = Math.Min(options.MaxNewTokens, chunk.Min(r => r.Room)),
            };
            var results = Sampler.Sample(model, chunk.Select(r => r.Prompt).ToArray(), sampling, random);
            // The stop token is part of the completion: the student learns where to end its turn.
            made.AddRange(chunk.Zip(results, (r, g) => Example(r.Prompt, g.StopId is { } stop ? [.. g.Tokens, stop] : g.Tokens)));
        }
        return [.. made];
    }

    // Prompt and completion of an example's last supervised turn (the last run of loss-mask positions), and the room
    // left after the prompt within the model's positions.
    internal static (int[] Prompt, int[] Completion, int Room) Split(IExampleSource source, long index, int maxPositions)
    {
        var e = source.Example(index);
        var end = Array.FindLastIndex(e.LossMask, m => m != 0);
        if (end < 1) throw new InvalidDataException($"{source.Name}: example {index} has no supervised (assistant) turn to use as a completion");
        var start = end;
        while (start > 1 && e.LossMask[start - 1] != 0) start--;
        var room = maxPositions - start;
        if (room < 1)
            throw new InvalidDataException($"{source.Name}: example {index}: its prompt has {start} tokens, leaving no room for new tokens within the student's max_position_embeddings = {maxPositions}");
        return (e.InputIds[..start], e.InputIds[start..(end + 1)], room);
    }

    internal static TrainingExample Example(int[] prompt, int[] completion) =>
        new([.. prompt, .. completion], [.. new byte[prompt.Length], .. Enumerable.Repeat((byte)1, completion.Length)]);
}
