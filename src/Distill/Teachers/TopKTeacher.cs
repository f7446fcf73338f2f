using Distill.LogitCache;
using Distill.Models;
using Distill.Text.Conversations;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// Runs a local teacher over tokenized examples and keeps, for every supervised target position j ≥ 1, what the logit cache
/// stores: the top-K ids of the logits at position j−1 (descending), those logits minus the row maximum, and the
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

    /// <summary>Computes the cache rows of the examples in one forward pass, padded on the right to the longest.</summary>
    public CacheExample[] ComputeBatch(IReadOnlyList<TokenizedExample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return [];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (ids, attention, positions) = Pack(batch);
        var output = Model.Forward(new CausalLMInput { InputIds = ids, AttentionMask = attention, ComputeLogits = false });
        var hidden = output.LastHiddenState; // [B, T, H]
        var flat = hidden.reshape(-1, hidden.shape[2]); // [B·T, H]
        var rows = positions.Length;
        var topIds = new int[(long)rows * TopK];
        var topLogits = new float[(long)rows * TopK];
        var logSumExp = new float[rows];
        if (rows > 0)
        {
            using var index = tensor(positions, ScalarType.Int64, Model.Device);
            var gathered = flat.index_select(0, index); // [R, H]
            for (long start = 0; start < rows; start += _chunkRows)
                ProjectChunk(gathered, start, Math.Min(_chunkRows, rows - start), topIds, topLogits, logSumExp);
        }
        return Split(batch, topIds, topLogits, logSumExp);
    }

    // Fills rows [start, start+count) of the outputs; the chunk's [count, V] logits die with its scope.
    private void ProjectChunk(Tensor gathered, long start, long count, int[] topIds, float[] topLogits, float[] logSumExp)
    {
        using var scope = NewDisposeScope();
        var logits = nn.functional.linear(gathered.narrow(0, start, count), Model.LmHeadWeight).to(ScalarType.Float32); // [n, V]
        var shifted = logits - logits.max(1, keepdim: true).values; // [n, V], row max exactly 0
        var lse = shifted.logsumexp(1); // [n]
        var (values, indices) = shifted.topk(TopK, dim: 1, largest: true, sorted: true); // [n, K]
        var cpuValues = values.cpu();
        var cpuIndices = indices.to(ScalarType.Int32).cpu();
        var cpuLse = lse.cpu();
        cpuValues.data<float>().CopyTo(topLogits, checked((int)(start * TopK)));
        cpuIndices.data<int>().CopyTo(topIds, checked((int)(start * TopK)));
        cpuLse.data<float>().CopyTo(logSumExp, checked((int)start));
    }

    // ids and mask [B, T] int64 (padding: id 0, mask 0; no mask when nothing is padded); positions: flat b·T + j−1 per target.
    private (Tensor Ids, Tensor? Attention, long[] Positions) Pack(IReadOnlyList<TokenizedExample> batch)
    {
        var width = batch.Max(e => e.InputIds.Length);
        var ids = new long[batch.Count * width];
        var mask = new long[batch.Count * width];
        var positions = new List<long>();
        var padded = false;
        for (var b = 0; b < batch.Count; b++)
        {
            var example = batch[b];
            padded |= example.InputIds.Length < width;
            for (var t = 0; t < example.InputIds.Length; t++)
            {
                ids[b * width + t] = example.InputIds[t];
                mask[b * width + t] = 1;
                if (t > 0 && example.LossMask[t] == 1) positions.Add((long)b * width + t - 1);
            }
        }
        var shape = new long[] { batch.Count, width };
        var idTensor = tensor(ids, shape, ScalarType.Int64, Model.Device);
        var maskTensor = padded ? tensor(mask, shape, ScalarType.Int64, Model.Device) : null;
        return (idTensor, maskTensor, positions.ToArray());
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
