using System.Runtime.ExceptionServices;
using Distill.Models;
using Distill.Teachers;
using Distill.Tensors;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Serving;

/// <summary>
/// Log-probabilities of given tokens: teacher-forced forward passes over rows padded together (<see cref="MicroBatch"/>,
/// batched by length with <see cref="LengthBatches"/>), log-softmax in fp32.
/// </summary>
public static class Scoring
{
    /// <summary>Default bound on one forward pass, in padded tokens (as <c>distill topk --batch-tokens</c>).</summary>
    public const long DefaultBatchTokens = 8192;

    /// <summary>Default bound on one [positions, V] fp32 block of log-probabilities, in elements: 64 MiB.</summary>
    public const long DefaultChunkElements = 1L << 24;

    /// <summary>
    /// Scores <paramref name="prompt"/> followed by <paramref name="continuation"/>: entry t is log p(token t | tokens
    /// before t) with the <paramref name="topK"/> most likely tokens at t; entry 0 is null (nothing precedes it).
    /// </summary>
    /// <remarks>Cost: one forward pass over T tokens and a [T, V] fp32 log-softmax a chunk of positions at a time.</remarks>
    /// <exception cref="ArgumentException">A token id is outside the model's vocabulary.</exception>
    public static TokenLogprob?[] Score(LlamaForCausalLM model, int[] prompt, int[] continuation, int topK) =>
        ScoreRows(model, [[.. prompt, .. continuation]], [topK])[0].Value;

    /// <summary>
    /// Scores every row as <see cref="Score"/> does, with <paramref name="topK"/>[r] alternatives for row r, in padded
    /// forward passes of up to <paramref name="batchTokens"/> tokens over rows of similar length, so that N rows cost
    /// about one forward pass over all of them rather than N. Right padding under an attention mask leaves every row's
    /// result as it would be alone (to float rounding). Only [chunk, V] log-probabilities exist at once, chunk =
    /// <paramref name="chunkElements"/> / V positions.
    /// </summary>
    /// <returns>One outcome per row, in order: a row with an id outside the vocabulary fails alone; a forward pass that
    /// fails (e.g. out of memory) fails the rows in it.</returns>
    public static RowScore[] ScoreRows(LlamaForCausalLM model, IReadOnlyList<int[]> rows, IReadOnlyList<int> topK,
        long batchTokens = DefaultBatchTokens, long chunkElements = DefaultChunkElements)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(topK);
        if (topK.Count != rows.Count) throw new ArgumentException($"{topK.Count} top-k counts for {rows.Count} rows", nameof(topK));
        foreach (var k in topK) ArgumentOutOfRangeException.ThrowIfNegative(k, nameof(topK));
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkElements, 1);
        var results = new RowScore[rows.Count];
        var valid = new List<int>();
        for (var r = 0; r < rows.Count; r++)
        {
            if (BadId(rows[r], model.Config.VocabSize) is { } problem) results[r] = new RowScore(null, new ArgumentException(problem));
            else valid.Add(r);
        }
        var chunkRows = Math.Max(1, chunkElements / model.Config.VocabSize);
        foreach (var plan in LengthBatches.Plan(valid.Select(r => rows[r].Length).ToArray(), batchTokens))
        {
            var batch = plan.Select(i => valid[i]).ToArray();
            try
            {
                var scored = ScoreBatch(model, batch.Select(r => rows[r]).ToArray(), batch.Select(r => topK[r]).ToArray(), chunkRows);
                for (var b = 0; b < batch.Length; b++) results[batch[b]] = new RowScore(scored[b], null);
            }
            catch (Exception e)
            {
                foreach (var r in batch) results[r] = new RowScore(null, e);
            }
        }
        return results;
    }

    // Checked on the host before any forward pass, so one bad row cannot fail its batch-mates.
    private static string? BadId(int[] ids, int vocab)
    {
        for (var t = 0; t < ids.Length; t++)
            if (ids[t] < 0 || ids[t] >= vocab) return $"token id {ids[t]} at position {t} is outside the model's vocabulary [0, {vocab})";
        return null;
    }

    private static TokenLogprob?[][] ScoreBatch(LlamaForCausalLM model, int[][] rows, int[] topK, long chunkRows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Every position j ≥ 1 is a target: MicroBatch's rows are then each row's positions 1..T−1 in order, predicted
        // from hidden row b·T + j − 1; padding positions are neither attended to nor projected.
        var packed = MicroBatch.Pack(rows.Select(r => new TrainingExample(r, Enumerable.Repeat((byte)1, r.Length).ToArray())).ToArray(), model.Device);
        var positions = packed.SupervisedTokens;
        // One top-k for the whole batch at the largest k asked for: its first k columns are row r's top-k(r), since
        // TopKRows fixes the order of ties.
        var k = (int)Math.Min(topK.Max(), model.Config.VocabSize);
        float[] chosenHost = [], topValuesHost = [];
        long[] topIdsHost = [];
        if (positions > 0) // TorchSharp cannot read an empty tensor's data
        {
            var hidden = packed.Hidden(model);                                                                   // [N, H]
            var chosen = empty([positions], ScalarType.Float32, hidden.device);
            var topValues = empty([positions, k], ScalarType.Float32, hidden.device);
            var topIds = empty([positions, k], ScalarType.Int64, hidden.device);
            for (long start = 0; start < positions; start += chunkRows)
            {
                using var chunkScope = NewDisposeScope();
                var count = Math.Min(chunkRows, positions - start);
                var logits = nn.functional.linear(hidden.narrow(0, start, count), model.LmHeadWeight);           // [n, V], model dtype
                var logprobs = logits.to_type(ScalarType.Float32).log_softmax(-1);                               // [n, V] fp32
                chosen.narrow(0, start, count).copy_(logprobs.gather(-1, packed.Labels.narrow(0, start, count).unsqueeze(-1)).squeeze(-1));
                if (k == 0) continue;
                var (values, indices) = TopKRows.Largest(logprobs, k);                                           // [n, k], ties by ascending id
                topValues.narrow(0, start, count).copy_(values);
                topIds.narrow(0, start, count).copy_(indices);
            }
            // One copy to the host per batch, not per chunk.
            chosenHost = chosen.cpu().data<float>().ToArray();
            if (k > 0)
            {
                topValuesHost = topValues.cpu().data<float>().ToArray();
                topIdsHost = topIds.cpu().data<long>().ToArray();
            }
        }
        return Split(rows, topK, k, chosenHost, topValuesHost, topIdsHost);
    }

    private static TokenLogprob?[][] Split(int[][] rows, int[] topK, int k, float[] chosen, float[] topValues, long[] topIds)
    {
        var results = new TokenLogprob?[rows.Length][];
        var position = 0;
        for (var b = 0; b < rows.Length; b++)
        {
            var ids = rows[b];
            var kept = Math.Min(topK[b], k);
            results[b] = new TokenLogprob?[ids.Length];
            for (var t = 1; t < ids.Length; t++, position++)
            {
                var top = new (int, float)[kept];
                for (var j = 0; j < kept; j++) top[j] = ((int)topIds[position * k + j], topValues[position * k + j]);
                results[b][t] = new TokenLogprob(ids[t], chosen[position], top);
            }
        }
        return results;
    }
}

/// <summary>One row's outcome in <see cref="Scoring.ScoreRows"/>: its entries, or why it could not be scored.</summary>
/// <param name="Entries">Entry t is token t's log-probability and alternatives; entry 0 is null. Null on failure.</param>
/// <param name="Error">Why the row failed, or null.</param>
public sealed record RowScore(TokenLogprob?[]? Entries, Exception? Error)
{
    /// <summary>The entries; rethrows <see cref="Error"/> (with its original stack) when the row failed.</summary>
    public TokenLogprob?[] Value
    {
        get
        {
            if (Error is not null) ExceptionDispatchInfo.Throw(Error);
            return Entries!;
        }
    }
}
