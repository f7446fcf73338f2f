using Distill.LogitCache;
using Distill.Models;
using Distill.Tensors;
using Distill.Text.Conversations;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// Runs a local teacher over tokenized examples and keeps, for every supervised target position j ≥ 1, what the logit cache
/// stores: the top-K ids of the logits at position j−1 (descending; equal logits by ascending id), those logits minus the row maximum, and the
/// log-sum-exp of the max-subtracted logits over the whole vocabulary, all in fp32 whatever the model's dtype.
/// </summary>
/// <remarks>
/// The full [B, T, V] logits are never formed: the model returns its final hidden states, only the rows that predict a
/// supervised token are gathered, and they are projected through the output matrix a chunk of rows at a time.
/// </remarks>
public sealed class TopKTeacher
{
    /// <summary>Default bound on one projected chunk, in fp32 elements (rows × vocabulary): 64 MiB.</summary>
    public const long DefaultChunkElements = 1L << 24;

    private readonly long _chunkRows;

    /// <summary>Wraps <paramref name="model"/> (switched to eval mode; not owned).</summary>
    /// <param name="model">The teacher.</param>
    /// <param name="topK">K, at most the vocabulary size.</param>
    /// <param name="chunkElements">Largest [rows, V] fp32 block projected at once.</param>
    public TopKTeacher(LlamaForCausalLM model, int topK, long chunkElements = DefaultChunkElements)
    {
        ArgumentNullException.ThrowIfNull(model);
        var vocab = model.Config.VocabSize;
        if (topK < 1 || topK > vocab) throw new ArgumentException($"top_k must be in [1, {vocab}] (the teacher's vocabulary), got {topK}", nameof(topK));
        if (chunkElements < 1) throw new ArgumentException($"chunk elements must be ≥ 1, got {chunkElements}", nameof(chunkElements));
        Model = model;
        TopK = topK;
        _chunkRows = Math.Max(1, chunkElements / vocab);
        model.eval();
    }

    /// <summary>The teacher model.</summary>
    public LlamaForCausalLM Model { get; }

    /// <summary>K.</summary>
    public int TopK { get; }

    /// <summary>
    /// Computes the cache rows of <paramref name="examples"/>, batched by length under <paramref name="batchTokens"/> padded
    /// tokens per forward pass (see <see cref="LengthBatches"/>); results are in the order of <paramref name="examples"/>.
    /// </summary>
    public CacheExample[] Compute(IReadOnlyList<TokenizedExample> examples, long batchTokens)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var results = new CacheExample[examples.Count];
        foreach (var batch in LengthBatches.Plan(examples.Select(e => e.InputIds.Length).ToArray(), batchTokens))
        {
            var computed = ComputeBatch(batch.Select(i => examples[i]).ToArray());
            for (var b = 0; b < batch.Length; b++) results[batch[b]] = computed[b];
        }
        return results;
    }

    /// <summary>Computes the cache rows of the examples in one forward pass, padded on the right to the longest (<see cref="MicroBatch"/>).</summary>
    public CacheExample[] ComputeBatch(IReadOnlyList<TokenizedExample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return [];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var packed = MicroBatch.Pack(batch.Select(e => new TrainingExample(e.InputIds, e.LossMask)).ToArray(), Model.Device);
        Tensor ids, logits, lse;
        try
        {
            (ids, logits, lse) = Rows(packed.Hidden(Model), Model.LmHeadWeight, TopK, _chunkRows);
        }
        catch (NaNRowException e)
        {
            var (example, position) = Locate(batch, e.Row);
            throw new InvalidDataException($"{example.SourceFile}:{example.Line}: the teacher's logits at token position {position} (predicting " +
                $"token {position + 1}) hold NaN (an overflow in the teacher's dtype, or broken weights): they have no top {TopK}", e);
        }
        // One copy to the host per batch, not per chunk (TorchSharp cannot read an empty tensor's data).
        var empty = packed.SupervisedTokens == 0;
        var topIds = empty ? [] : ids.to(ScalarType.Int32).cpu().data<int>().ToArray();
        var topLogits = empty ? [] : logits.cpu().data<float>().ToArray();
        var logSumExp = empty ? [] : lse.cpu().data<float>().ToArray();
        return Split(batch, topIds, topLogits, logSumExp);
    }

    /// <summary>
    /// What the cache stores for [R, H] final hidden states: per row the top-K ids [R, K] int64 (descending, equal values
    /// by ascending id: <see cref="TopKRows.Largest"/>), the fp32
    /// logits there minus the row maximum [R, K] (column 0 is exactly 0), and the log-sum-exp of the max-subtracted
    /// logits over the whole vocabulary [R]. Projected <paramref name="chunkRows"/> rows at a time, so only a
    /// [chunk, V] block of logits exists at once; results on the hidden states' device, in the caller's scope.
    /// </summary>
    public static (Tensor Ids, Tensor Logits, Tensor LogSumExp) Rows(Tensor hidden, Tensor outputWeight, int topK, long chunkRows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = hidden.shape[0];
        var ids = empty([rows, topK], ScalarType.Int64, hidden.device);
        var values = empty([rows, topK], ScalarType.Float32, hidden.device);
        var lse = empty([rows], ScalarType.Float32, hidden.device);
        for (long start = 0; start < rows; start += chunkRows)
        {
            using var chunkScope = NewDisposeScope();
            var count = Math.Min(chunkRows, rows - start);
            var logits = nn.functional.linear(hidden.narrow(0, start, count), outputWeight);                     // [n, V], model dtype
            // The fp32 difference straight from the model-dtype logits (type promotion widens each value exactly as an
            // upcast would): no separate [n, V] fp32 copy in bf16; amax, unlike max, builds no index tensor.
            var shifted = logits - logits.amax(new long[] { 1 }, keepdim: true).to(ScalarType.Float32);          // [n, V] fp32, row max exactly 0
            Tensor top, index;                                                                                   // [n, K]
            try
            {
                (top, index) = TopKRows.Largest(shifted, topK);
            }
            catch (NaNRowException e)
            {
                throw new NaNRowException(start + e.Row, topK);
            }
            ids.narrow(0, start, count).copy_(index);
            values.narrow(0, start, count).copy_(top);
            // logsumexp(shifted) op for op (libtorch's is log Σ exp(x − rowmax) + rowmax, and the row max is 0 here), in
            // place and without its own max and subtraction passes.
            lse.narrow(0, start, count).copy_(shifted.exp_().sum(1).log_());
        }
        return (ids.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope(), lse.MoveToOuterDisposeScope());
    }

    // The example and input position whose logits make supervised row `row` of the batch (rows run over the examples in
    // order, one per target j ≥ 1, predicted from position j − 1).
    private static (TokenizedExample Example, int Position) Locate(IReadOnlyList<TokenizedExample> batch, long row)
    {
        foreach (var example in batch)
            for (var t = 1; t < example.LossMask.Length; t++)
                if (example.LossMask[t] == 1 && row-- == 0) return (example, t - 1);
        throw new ArgumentOutOfRangeException(nameof(row), "past the batch's supervised rows");
    }

    private CacheExample[] Split(IReadOnlyList<TokenizedExample> batch, int[] topIds, float[] topLogits, float[] logSumExp)
    {
        var results = new CacheExample[batch.Count];
        var row = 0;
        for (var b = 0; b < batch.Count; b++)
        {
            var example = batch[b];
            var rows = 0;
            for (var t = 1; t < example.LossMask.Length; t++) rows += example.LossMask[t] == 1 ? 1 : 0;
            var mask = (byte[])example.LossMask.Clone();
            results[b] = new CacheExample((int[])example.InputIds.Clone(), mask, TopK,
                topIds.AsSpan(row * TopK, rows * TopK).ToArray(),
                topLogits.AsSpan(row * TopK, rows * TopK).ToArray(),
                logSumExp.AsSpan(row, rows).ToArray());
            row += rows;
        }
        return results;
    }
}
