using static TorchSharp.torch;

namespace Distill.Generation;

/// <summary>
/// The sampler's token choice as pure functions of tensors over the last dimension (the vocabulary): filters return
/// fresh logits with removed tokens at −∞, the draw returns ids. None of them syncs with the host.
/// </summary>
public static class SamplingFilters
{
    /// <summary>
    /// Top-k: keeps token v iff logit_v ≥ the k-th largest logit of its row (so ties at the k-th are all kept, as in
    /// Hugging Face's TopKLogitsWarper); the rest become −∞. k ≥ the vocabulary size keeps everything.
    /// </summary>
    /// <param name="logits">[..., V] logits.</param>
    /// <param name="k">Tokens to keep, ≥ 1.</param>
    public static Tensor TopKFilter(Tensor logits, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (k >= logits.shape[^1]) return logits.clone();
        using var scope = NewDisposeScope();
        var kth = logits.topk(k, dim: -1, largest: true, sorted: true).values[TensorIndex.Ellipsis, TensorIndex.Slice(k - 1, k)]; // [..., 1]
        return logits.masked_fill(logits.lt(kth), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Top-p (nucleus, Holtzman et al. 2019): with p_(1) ≥ p_(2) ≥ … the row's softmax in descending order, token (j) is
    /// kept iff Σ_{i&lt;j} p_(i) &lt; p, the smallest set of most likely tokens whose mass reaches p; the most likely token
    /// is always kept (its preceding mass is 0). Tokens tied with the last kept one are kept too, so the result does not
    /// depend on how the sort orders ties. The rest become −∞. p = 1 keeps everything.
    /// Cost: one sort of the vocabulary per row (~4 ms per 32k-token row on this CPU), which is why the sampler tries
    /// the most likely 1024 tokens first (<see cref="TopPAmongCandidates"/>).
    /// </summary>
    /// <param name="logits">[..., V] logits, possibly with −∞ already (e.g. after <see cref="TopKFilter"/>).</param>
    /// <param name="p">Mass to keep, in (0, 1].</param>
    public static Tensor TopPFilter(Tensor logits, double p)
    {
        if (!(p > 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "top_p must be in (0, 1]");
        if (p == 1) return logits.clone(); // cumulative sums can round below 1 and would cut the tail for nothing
        return TopPAmongCandidates(logits, p, logits.shape[^1], out _);
    }

    /// <summary>
    /// <see cref="TopPFilter"/> computed from the row's <paramref name="candidates"/> most likely tokens only (a partial
    /// sort). Exact for every row whose candidates hold mass ≥ p (<paramref name="covered"/>, [...] bool): the nucleus
    /// then lies among them, and their probabilities and preceding masses are the full sort's first entries, computed
    /// the same way (exp(logit − logsumexp of the whole row)). Rows not covered need the full sort.
    /// </summary>
    internal static Tensor TopPAmongCandidates(Tensor logits, double p, long candidates, out Tensor covered)
    {
        using var scope = NewDisposeScope();
        var m = Math.Min(candidates, logits.shape[^1]);
        var values = logits.topk((int)m, dim: -1, largest: true, sorted: true).values;   // [..., m] descending
        var probabilities = (values.to_type(ScalarType.Float32) - logits.to_type(ScalarType.Float32).logsumexp(-1, keepdim: true)).exp();
        var cumulative = probabilities.cumsum(-1);
        var before = cumulative - probabilities;                                     // mass strictly before each token
        var kept = before.lt(p).sum(-1, keepdim: true, type: ScalarType.Int64);      // [..., 1], ≥ 1
        var threshold = values.gather(-1, kept - 1);                                 // [..., 1] the last kept logit
        covered = cumulative[TensorIndex.Ellipsis, -1].ge(p).MoveToOuterDisposeScope();
        return logits.masked_fill(logits.lt(threshold), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Inverse-CDF draw: with c_v = Σ_{w≤v} p_w the row's cumulative sum and u ~ U[0, 1), returns the first v with
    /// c_v &gt; u · c_V (scaling by the row total c_V makes unnormalised rows fine), by binary search. A token of
    /// probability 0 is never returned: its c_v equals its predecessor's, so it is never the first to exceed; and the
    /// target is kept below c_V, which rounding of u · c_V could otherwise reach.
    /// </summary>
    /// <param name="probabilities">[B, V] non-negative, each row with a positive sum.</param>
    /// <param name="uniforms">[B] draws in [0, 1).</param>
    /// <returns>[B] int64 token ids.</returns>
    public static Tensor InverseCdf(Tensor probabilities, Tensor uniforms)
    {
        using var scope = NewDisposeScope();
        var cdf = probabilities.cumsum(-1);                                       // [B, V], non-decreasing
        var total = cdf[TensorIndex.Colon, TensorIndex.Slice(-1)];                // [B, 1]
        var target = (uniforms.to_type(cdf.dtype).unsqueeze(-1) * total).minimum(total.nextafter(zeros_like(total)));
        return searchsorted(cdf, target, right: true).squeeze(-1).MoveToOuterDisposeScope(); // first c_v > target
    }

    /// <summary>
    /// The next token of every row: argmax when <see cref="SamplingOptions.IsGreedy"/>; otherwise softmax of
    /// TopP(TopK(logits / temperature)) drawn with <see cref="InverseCdf"/>.
    /// </summary>
    /// <param name="logits">[B, V] fp32 logits.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="uniforms">[B] draws in [0, 1); ignored (may be null) when greedy.</param>
    /// <returns>[B] int64 token ids.</returns>
    public static Tensor NextTokens(Tensor logits, SamplingOptions options, Tensor? uniforms) =>
        NextTokens(logits, options, uniforms, topPCandidates: null, out _);

    /// <summary>
    /// <see cref="NextTokens(Tensor, SamplingOptions, Tensor?)"/>, with top-p taken among the
    /// <paramref name="topPCandidates"/> most likely tokens when given: then <paramref name="exact"/> [B] bool says which
    /// rows that was exact for (null when top-p is off or the full sort was used).
    /// </summary>
    internal static Tensor NextTokens(Tensor logits, SamplingOptions options, Tensor? uniforms, long? topPCandidates, out Tensor? exact)
    {
        exact = null;
        if (options.IsGreedy) return logits.argmax(-1);
        ArgumentNullException.ThrowIfNull(uniforms);
        using var scope = NewDisposeScope();
        var scaled = logits / options.Temperature;
        if (options.TopK > 0) scaled = TopKFilter(scaled, options.TopK);
        if (options.TopP < 1)
        {
            if (topPCandidates is { } m)
            {
                scaled = TopPAmongCandidates(scaled, options.TopP, m, out var covered);
                exact = covered.MoveToOuterDisposeScope();
            }
            else
            {
                scaled = TopPFilter(scaled, options.TopP);
            }
        }
        return InverseCdf(scaled.softmax(-1), uniforms).MoveToOuterDisposeScope();
    }
}
