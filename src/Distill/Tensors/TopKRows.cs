using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tensors;

/// <summary>
/// The k largest entries of each row of an [n, V] tensor, ordered by value (descending) and, among equal values, by
/// index (ascending). <c>torch.topk</c> returns the same values but leaves the order of equal ones to its algorithm,
/// and bf16 logits tie often (256 values per octave); this order is fixed, so the logit cache, the online teacher and
/// the served top log-probabilities agree whatever the batching, the chunking or the device.
/// </summary>
/// <remarks>
/// Why not <c>topk</c>: on CPU it copies every row into a vector of (value, index) pairs before its partial sort, about
/// 2.4 ns an entry, as much as the bf16 projection that made the row (bench topk). Here the rows are cut into blocks of
/// <see cref="Block"/>; with b the k-th largest block maximum, the k blocks whose maxima are the largest hold k values
/// ≥ b, so b ≤ the k-th largest value, and every value ≥ b lies in a block whose maximum is ≥ b. The values ≥ b of
/// those blocks (and of the short last block), usually a few more than k per row, therefore hold the answer and every
/// tie of its last value; a stable sort of them in index order gives it. One vectorised pass over the rows (the block
/// maxima) plus work on about k · (blocks) entries: 33 ms against topk's 79 for 1024 rows × 32000, k = 100, one thread.
/// Two host synchronisations per call (<c>nonzero</c> and the candidate count), as the padded layout needs its width.
/// </remarks>
public static class TopKRows
{
    // 32 and 64 measured alike (1024 × 32000, k = 100); 16 hits a slow libtorch reduction over the inner dimension.
    internal const int Block = 32;

    /// <summary>The k largest entries of each row of <paramref name="x"/> [n, V] and their indices [n, k] (int64).</summary>
    /// <exception cref="ArgumentException">k is outside [1, V] or x is not two-dimensional floating point.</exception>
    /// <exception cref="NaNRowException">A row holds NaN (the first such row is named).</exception>
    public static (Tensor Values, Tensor Indices) Largest(Tensor x, int k)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 || !x.is_floating_point()) throw new ArgumentException($"top-k needs [rows, columns] floating-point values, got {x.dtype} [{string.Join(", ", x.shape)}]", nameof(x));
        long n = x.shape[0], width = x.shape[1];
        if (k < 1 || k > width) throw new ArgumentException($"k must be in [1, {width}] (the row width), got {k}", nameof(k));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (n == 0) return (empty([0, k], x.dtype, x.device).MoveToOuterDisposeScope(), empty([0, k], ScalarType.Int64, x.device).MoveToOuterDisposeScope());
        var rows = x.contiguous();
        var flat = Candidates(rows, k);                                                      // [c] row · V + index, row-major
        var (values, indices) = Padded(rows, flat, k);                                        // [n, m] in index order
        var (sorted, order) = values.sort(1, descending: true, stable: true);                 // equal values keep index order
        return (sorted.narrow(1, 0, k).MoveToOuterDisposeScope(), indices.gather(1, order.narrow(1, 0, k)).MoveToOuterDisposeScope());
    }

    // Every entry ≥ its row's threshold b (the k-th largest maximum over the blocks, the last, shorter one included), as
    // row · V + index in ascending order: the full blocks whose maximum reaches b, read as windows of the flat rows, then
    // the last block's entries. Every entry when there are at most k blocks.
    private static Tensor Candidates(Tensor x, int k)
    {
        long n = x.shape[0], width = x.shape[1], full = width / Block * Block;
        if ((width + Block - 1) / Block <= k)
        {
            // Every entry is a candidate, and a NaN would sort first: refuse it here (the blocked path refuses it below).
            var nan = x.isnan().any(1);
            if (nan.any().item<bool>()) throw new NaNRowException(nan.to_type(ScalarType.Int64).argmax().item<long>(), k);
            return arange(n * width, dtype: ScalarType.Int64, device: x.device);
        }
        var maxima = x.narrow(1, 0, full).view(n, full / Block, Block).amax(new long[] { 2 });  // [n, blocks]
        var last = full < width ? x.narrow(1, full, width - full) : null;                     // [n, V mod Block]
        var all = last is null ? maxima : cat([maxima, last.amax(new long[] { 1 }, keepdim: true)], 1);
        var threshold = all.topk(k, dim: 1, largest: true, sorted: false).values.amin(new long[] { 1 }, keepdim: true);
        var picked = maxima.ge(threshold).nonzero();                                          // [p, 2] (row, block)
        var row = picked.select(1, 0);
        var start = picked.select(1, 1).mul(Block).add_(row * width);                         // flat index of each block's first entry
        var windows = x.view(-1).unfold(0, Block, 1).index_select(0, start);                  // [p, Block]
        var hit = windows.ge(threshold.index_select(0, row)).nonzero();                       // [q, 2] (picked block, offset)
        var flat = start.index_select(0, hit.select(1, 0)).add_(hit.select(1, 1));
        if (last is null) return flat;
        var inLast = last.ge(threshold).nonzero();                                            // [r, 2] (row, offset)
        var lastFlat = inLast.select(1, 0).mul(width).add_(inLast.select(1, 1)).add_(full);
        return cat([flat, lastFlat]).sort().Values;                                           // the last block's entries into row order
    }

    // The candidates laid out as [n, m] (m = the most any row has), in index order, padded with −∞ after each row's own.
    // A row with fewer than k candidates holds NaN: NaN propagates through its block maximum to the threshold, which
    // no entry then reaches.
    private static (Tensor Values, Tensor Indices) Padded(Tensor x, Tensor flat, int k)
    {
        long n = x.shape[0], width = x.shape[1];
        var row = flat.div(width, rounding_mode: RoundingMode.floor);
        var counts = bincount(row, minlength: n);
        var (fewest, most) = counts.aminmax();
        var bounds = stack([fewest, most]).cpu().data<long>().ToArray();
        if (bounds[0] < k) throw new NaNRowException(counts.argmin().item<long>(), k);
        var slot = arange(flat.shape[0], dtype: ScalarType.Int64, device: x.device).sub_(counts.cumsum(0).sub_(counts).index_select(0, row));
        var at = row.mul(bounds[1]).add_(slot);
        var values = full(new long[] { n * bounds[1] }, double.NegativeInfinity, x.dtype, x.device)
            .index_put_(x.view(-1).index_select(0, flat), at).view(n, bounds[1]);
        var indices = full(new long[] { n * bounds[1] }, width, ScalarType.Int64, x.device)
            .index_put_(flat.sub(row.mul(width)), at).view(n, bounds[1]);
        return (values, indices);
    }
}

/// <summary>A row given to <see cref="TopKRows.Largest"/> holds NaN, so it has no top k.</summary>
/// <param name="row">The first such row.</param>
/// <param name="k">The k asked for.</param>
public sealed class NaNRowException(long row, int k) : ArgumentException($"row {row} holds NaN: its top {k} is undefined")
{
    /// <summary>The first row holding NaN.</summary>
    public long Row { get; } = row;
}
