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
        var ignored = ids.lt(0);
        var safeIds = LossMath.CheckedIds(ids.clamp_min(0), x.shape[1], "labels");
        var picked = x.gather(1, safeIds.unsqueeze(1)).squeeze(1);      // [N]
        var ce = x.logsumexp(1) - picked;
        return where(ignored, zeros_like(ce), ce).MoveToOuterDisposeScope();
    }
}
