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
    /// Cost: one sort of the vocabulary per row.
    /// </summary>
    /// <param name="logits">[..., V] logits, possibly with −∞ already (e.g. after <see cref="TopKFilter"/>).</param>
    /// <param name="p">Mass to keep, in (0, 1].</param>
    public static Tensor TopPFilter(Tensor logits, double p)
    {
        if (!(p > 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "top_p must be in (0, 1]");
        if (p == 1) return logits.clone(); // cumulative sums can round below 1 and would cut the tail for nothing
        using var scope = NewDisposeScope();
        var (sorted, _) = logits.sort(-1, descending: true);                          // [..., V]
        var probabilities = sorted.to_type(ScalarType.Float32).softmax(-1);
        var before = probabilities.cumsum(-1) - probabilities;                        // mass strictly before each token
        var kept = before.lt(p).sum(-1, keepdim: true, type: ScalarType.Int64);       // [..., 1], ≥ 1
        var threshold = sorted.gather(-1, kept - 1);                                  // [..., 1] the last kept logit
        return logits.masked_fill(logits.lt(threshold), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Inverse-CDF draw: with c_v = Σ_{w≤v} p_w the row's cumulative sum and u ~ U[0, 1), returns the first v with
    /// c_v &gt; u · c_V (scaling by the row total c_V makes unnormalised rows fine). A token of probability 0 is never
    /// returned: if rounding puts u · c_V at or above c_V, the last token of positive probability is taken.
    /// </summary>
    /// <param name="probabilities">[B, V] non-negative, each row with a positive sum.</param>
    /// <param name="uniforms">[B] draws in [0, 1).</param>
    /// <returns>[B] int64 token ids.</returns>
    public static Tensor InverseCdf(Tensor probabilities, Tensor uniforms)
    {
        using var scope = NewDisposeScope();
        var cdf = probabilities.cumsum(-1);                                                      // [B, V]
        var target = uniforms.to_type(cdf.dtype).unsqueeze(-1) * cdf[TensorIndex.Colon, TensorIndex.Slice(-1)]; // [B, 1]
        var index = cdf.le(target).sum(-1, type: ScalarType.Int64);                              // [B] first c_v > target
        var vocabulary = arange(probabilities.shape[^1], dtype: ScalarType.Int64, device: probabilities.device);
        var lastPositive = vocabulary.expand_as(cdf).masked_fill(probabilities.le(0), 0).amax(-1); // [B]
        return index.minimum(lastPositive).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The next token of every row: argmax when <see cref="SamplingOptions.IsGreedy"/>; otherwise softmax of
    /// TopP(TopK(logits / temperature)) drawn with <see cref="InverseCdf"/>.
    /// </summary>
    /// <param name="logits">[B, V] fp32 logits.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="uniforms">[B] draws in [0, 1); ignored (may be null) when greedy.</param>
    /// <returns>[B] int64 token ids.</returns>
    public static Tensor NextTokens(Tensor logits, SamplingOptions options, Tensor? uniforms)
    {
        if (options.IsGreedy) return logits.argmax(-1);
        ArgumentNullException.ThrowIfNull(uniforms);
        using var scope = NewDisposeScope();
        var scaled = logits / options.Temperature;
        if (options.TopK > 0) scaled = TopKFilter(scaled, options.TopK);
        if (options.TopP < 1) scaled = TopPFilter(scaled, options.TopP);
        return InverseCdf(scaled.softmax(-1), uniforms).MoveToOuterDisposeScope();
    }
}
