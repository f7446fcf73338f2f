using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>The supervised fine-tuning objective: next-token cross-entropy over the full vocabulary.</summary>
public static class Sft
{
    /// <summary>
    /// Per-token cross-entropy CE_i = logsumexp_v(x_iv) − x_i,label_i, in fp32 (fp64 kept) whatever the
    /// logits' dtype. Rows whose label is negative (the usual −100 "ignore" label) get 0, so callers may
    /// pass unsupervised rows and mask them later.
    /// </summary>
    /// <param name="logits">[N, V] student logits.</param>
    /// <param name="labels">[N] int64 (or int32) target ids in [0, V), or negative for ignored rows.</param>
    /// <returns>[N] per-token losses.</returns>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
    {
        LossMath.CheckRows(logits, labels, "logits", "labels");
        using var scope = NewDisposeScope();
        var x = LossMath.AtLeastFloat32(logits);                       // [N, V]
        var ids = labels.to_type(ScalarType.Int64);
        var safeIds = LossMath.CheckedIds(ids.clamp_min(0), x.shape[1], "labels");
        var picked = x.gather(1, safeIds.unsqueeze(1)).squeeze(1);      // [N]
        return FromParts(x.logsumexp(1), picked, ids.lt(0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CE_i = logZ_i − x_i,label_i from its parts, 0 where <paramref name="ignored"/>: lets <see cref="KdLoss"/> share
    /// the log-normaliser and the gathered columns with the KD term (one logsumexp per chunk, not two).
    /// </summary>
    /// <param name="logZ">[N] logsumexp of the (scaled, fp32) logits over the vocabulary.</param>
    /// <param name="picked">[N] the same logits at the labels (any in-range id for ignored rows).</param>
    /// <param name="ignored">[N] bool, true for rows whose label is negative.</param>
    internal static Tensor FromParts(Tensor logZ, Tensor picked, Tensor ignored)
    {
        using var scope = NewDisposeScope();
        var ce = logZ - picked;
        return where(ignored, zeros_like(ce), ce).MoveToOuterDisposeScope();
    }
}
