using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// What the teacher provides for a batch of N token positions: cached top-K logits (offline KD), full
/// logits, or final hidden states plus output projection (online KD, projected chunk by chunk so the
/// teacher's [N, V] logits never exist at once). Borrows its tensors; never disposes them.
/// </summary>
public sealed class TeacherSignal
{
    private TeacherSignal(Tensor? topkIds, Tensor? topkLogits, Tensor? logSumExp, Tensor? logits, Tensor? hidden, Tensor? outputWeight,
        Tensor? tokenLogProbs = null)
    {
        TokenLogProbs = tokenLogProbs;
        TopkIds = topkIds;
        TopkLogits = topkLogits;
        LogSumExp = logSumExp;
        Logits = logits;
        Hidden = hidden;
        OutputWeight = outputWeight;
    }

    /// <summary>[N, K] teacher top-K ids (int64 or int32), descending by logit.</summary>
    public Tensor? TopkIds { get; }

    /// <summary>[N, K] teacher logits at <see cref="TopkIds"/>, max-subtracted (any float dtype).</summary>
    public Tensor? TopkLogits { get; }

    /// <summary>[N] log Σ_v exp(t_v − max) over the teacher's full vocabulary; needed by tail-aware KD only.</summary>
    public Tensor? LogSumExp { get; }

    /// <summary>[N, Vt] full teacher logits.</summary>
    public Tensor? Logits { get; }

    /// <summary>[N, Ht] teacher final hidden states (after the final norm).</summary>
    public Tensor? Hidden { get; }

    /// <summary>[Vt, Ht] teacher output projection (lm_head.weight).</summary>
    public Tensor? OutputWeight { get; }

    /// <summary>[N] the teacher's log-probability of each row's label only (what a served teacher returns for given text).</summary>
    public Tensor? TokenLogProbs { get; }

    /// <summary>True when the signal is a top-K cache row set rather than a full distribution.</summary>
    public bool IsTopK => TopkIds is not null;

    /// <summary>Number of token positions N.</summary>
    public long Rows => (TopkIds ?? Logits ?? Hidden ?? TokenLogProbs)!.shape[0];

    /// <summary>Cached top-K rows, as stored in the logit cache.</summary>
    public static TeacherSignal TopK(Tensor topkIds, Tensor topkLogits, Tensor? logSumExp = null)
    {
        if (topkIds.dim() != 2 || !topkIds.shape.SequenceEqual(topkLogits.shape))
            throw new ArgumentException($"topk_ids [{string.Join(", ", topkIds.shape)}] and topk_logits [{string.Join(", ", topkLogits.shape)}] must both be [N, K]");
        if (logSumExp is not null && (logSumExp.dim() != 1 || logSumExp.shape[0] != topkIds.shape[0]))
            throw new ArgumentException($"logsumexp [{string.Join(", ", logSumExp.shape)}] must be [{topkIds.shape[0]}]");
        return new(topkIds, topkLogits, logSumExp, null, null, null);
    }

    /// <summary>Full teacher logits [N, Vt].</summary>
    public static TeacherSignal FullLogits(Tensor logits)
    {
        if (logits.dim() != 2) throw new ArgumentException($"teacher logits [{string.Join(", ", logits.shape)}] must be [N, V]");
        return new(null, null, null, logits, null, null);
    }

    /// <summary>Teacher hidden states [N, Ht] and output projection [Vt, Ht]; logits are made per chunk under no-grad.</summary>
    public static TeacherSignal FromHidden(Tensor hidden, Tensor outputWeight)
    {
        if (hidden.dim() != 2 || outputWeight.dim() != 2 || hidden.shape[1] != outputWeight.shape[1])
            throw new ArgumentException($"teacher hidden [{string.Join(", ", hidden.shape)}] and output weight [{string.Join(", ", outputWeight.shape)}] must be [N, H] and [V, H]");
        return new(null, null, null, null, hidden, outputWeight);
    }

    /// <summary>The teacher's log-probability of each row's label, [N]: enough for <see cref="SampledReverseKl"/>, nothing else.</summary>
    public static TeacherSignal LabelLogProbs(Tensor logProbs)
    {
        if (logProbs.dim() != 1) throw new ArgumentException($"teacher log-probabilities [{string.Join(", ", logProbs.shape)}] must be [N]");
        return new(null, null, null, null, null, null, logProbs);
    }

    /// <summary>Rows [start, start + length) as views (no copy), owned by the current dispose scope.</summary>
    public TeacherSignal Slice(long start, long length) => new(
        TopkIds?.narrow(0, start, length),
        TopkLogits?.narrow(0, start, length),
        LogSumExp?.narrow(0, start, length),
        Logits?.narrow(0, start, length),
        Hidden?.narrow(0, start, length),
        OutputWeight,
        TokenLogProbs?.narrow(0, start, length));

    /// <summary>[N, Vt] full logits without gradient: <see cref="Logits"/>, or Hidden·Wᵀ computed now.</summary>
    internal Tensor FullLogitsNoGrad()
    {
        using var noGrad = no_grad();
        if (Logits is not null) return Logits.detach();
        if (Hidden is null || OutputWeight is null)
            throw new InvalidOperationException("a top-K teacher signal has no full logits");
        return Hidden.detach().matmul(OutputWeight.detach().t());
    }

    /// <summary>[N] the teacher's log-probability of <paramref name="labels"/>: given, or log-softmax of the full logits there.</summary>
    /// <exception cref="InvalidDataException">A top-K signal, which does not know the probability of a token outside its K.</exception>
    internal Tensor LabelLogProbsNoGrad(Tensor labels)
    {
        using var noGrad = no_grad();
        if (TokenLogProbs is not null) return TokenLogProbs.detach();
        if (IsTopK)
            throw new InvalidDataException("kd objective: sampled_rkl needs the teacher's log-probability of every sampled token; " +
                "a top-K teacher (a cache or teacher_top_k) knows only its K, so use a live teacher over its full vocabulary");
        using var scope = NewDisposeScope();
        var logP = FullLogitsNoGrad().to_type(ScalarType.Float32).log_softmax(1);                    // [N, V]
        return logP.gather(1, labels.to_type(ScalarType.Int64).unsqueeze(1)).squeeze(1).MoveToOuterDisposeScope();
    }
}
