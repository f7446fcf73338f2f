using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>Numerical building blocks shared by every divergence: dtype promotion and KL/JSD in log space.</summary>
internal static class LossMath
{
    [ThreadStatic] private static long t_hostReads;

    /// <summary>Reads on this thread through <see cref="ReadToHost{T}"/> so far: a test counts the chunk loop's (none).</summary>
    internal static long HostReads => t_hostReads;

    /// <summary>
    /// The one way the losses read tensor values back to the host: on a GPU each read waits for every queued kernel
    /// (a sync), so they happen at the boundaries of a micro-batch, never per chunk, and are counted.
    /// </summary>
    internal static T[] ReadToHost<T>(Tensor values) where T : unmanaged
    {
        t_hostReads++;
        return values.cpu().data<T>().ToArray();
    }

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
    /// The check reads two numbers back to the host (a device sync on a GPU), so callers in a per-chunk loop
    /// check all ids once before it (<see cref="LossTargets.CheckIds"/>) and pass <paramref name="check"/> false.
    /// </summary>
    public static Tensor CheckedIds(Tensor ids, long vocabSize, string tensorName, bool check = true)
    {
        using var scope = NewDisposeScope();
        var ids64 = ids.to_type(ScalarType.Int64);
        if (check && ids64.numel() > 0)
        {
            var range = ReadToHost<long>(stack(new[] { ids64.min(), ids64.max() }));
            ThrowIfOutside(tensorName, range[0], range[1], vocabSize);
        }
        return ids64.MoveToOuterDisposeScope();
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="tensorName"/> when [min, max] leaves [0, vocabSize).</summary>
    public static void ThrowIfOutside(string tensorName, long min, long max, long vocabSize)
    {
        if (min < 0 || max >= vocabSize)
            throw new InvalidDataException($"{tensorName}: id {(min < 0 ? min : max)} is outside the student vocabulary [0, {vocabSize})");
    }

    public static void CheckRows(Tensor a, Tensor b, string nameA, string nameB)
    {
        if (a.shape[0] != b.shape[0])
            throw new ArgumentException($"{nameA} has {a.shape[0]} rows but {nameB} has {b.shape[0]}");
    }
}
