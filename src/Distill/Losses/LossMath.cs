using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>Numerical building blocks shared by every divergence: dtype promotion and KL/JSD in log space.</summary>
internal static class LossMath
{
    /// <summary>
    /// Losses are computed in fp32 whatever the model's dtype (bf16/fp16 softmax over 100k+ entries loses
    /// most of the small probabilities KD is about). fp64 stays fp64 so gradients can be checked against
    /// finite differences in double precision.
    /// </summary>
    public static Tensor AtLeastFloat32(Tensor x) =>
        x.dtype == ScalarType.Float64 ? x : x.to_type(ScalarType.Float32);

    /// <summary>
    /// KL(A‖B) = Σ_last a·(log a − log b) from log-probabilities. Entries with a = 0 (log a = −inf, e.g. a
    /// teacher that rules a token out) contribute 0 by the convention 0·log 0 = 0 instead of 0·(−inf) = NaN.
    /// </summary>
    public static Tensor Kl(Tensor logA, Tensor logB)
    {
        using var scope = NewDisposeScope();
        var terms = logA.exp() * (logA - logB);
        var safe = where(logA.isneginf(), zeros_like(terms), terms);
        return safe.sum(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Generalized JSD(β) from teacher log-probs <paramref name="logP"/> and student log-probs
    /// <paramref name="logQ"/> (TRL's GKD convention): M = β·P + (1−β)·Q,
    /// JSD = β·KL(P‖M) + (1−β)·KL(Q‖M). The end points are computed as the KLs they are defined to be,
    /// β = 0 → KL(P‖Q) (forward), β = 1 → KL(Q‖P) (reverse): the mixture form would vanish there.
    /// log M = logsumexp(log β + log P, log(1−β) + log Q) never leaves log space, so tiny probabilities
    /// do not underflow.
    /// </summary>
    public static Tensor GeneralizedJsd(Tensor logP, Tensor logQ, double beta)
    {
        if (beta == 0) return Kl(logP, logQ);
        if (beta == 1) return Kl(logQ, logP);
        using var scope = NewDisposeScope();
        var logM = stack(new[] { logP + Math.Log(beta), logQ + Math.Log(1 - beta) }).logsumexp(0);
        var jsd = beta * Kl(logP, logM) + (1 - beta) * Kl(logQ, logM);
        return jsd.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Top-K ids as int64 for gather, after checking they index the student's vocabulary: an out-of-range
    /// id would otherwise abort inside libtorch (or read a neighbouring row) instead of naming the culprit.
    /// </summary>
    public static Tensor CheckedIds(Tensor ids, long vocabSize, string tensorName)
    {
        using var scope = NewDisposeScope();
        var ids64 = ids.to_type(ScalarType.Int64);
        if (ids64.numel() > 0)
        {
            var min = ids64.min().item<long>();
            var max = ids64.max().item<long>();
            if (min < 0 || max >= vocabSize)
                throw new InvalidDataException($"{tensorName}: id {(min < 0 ? min : max)} is outside the student vocabulary [0, {vocabSize})");
        }
        return ids64.MoveToOuterDisposeScope();
    }

    public static void CheckRows(Tensor a, Tensor b, string nameA, string nameB)
    {
        if (a.shape[0] != b.shape[0])
            throw new ArgumentException($"{nameA} has {a.shape[0]} rows but {nameB} has {b.shape[0]}");
    }
}
