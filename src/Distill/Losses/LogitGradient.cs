using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// A chunk's loss and its gradient with respect to the [N, V] logits, for SFT and the top-K objectives, with one pass of
/// exp over [N, V] where autograd makes two to four. The terms read the logits only through three small things
/// (<see cref="KdLoss.Combine"/>): the log-normaliser logZ = logsumexp(s), the tail's logsumexp(s outside the K ids), and
/// x at the label and K ids. Their gradients come from autograd over [N, 1 + K] tensors; the [N, V] gradient is then
/// written down from e = exp(s − m), kept from the forward pass:
/// ∂logZ/∂x_v = scale·e_v/Σe, ∂logOutside/∂x_v = scale·e_v/Σ_{u∉K}e_u off the K ids (0 on them), ∂picked/∂x = one-hot.
/// </summary>
/// <remarks>
/// Measured on the bench model's chunk (1024 × 32000, one thread): the autograd path spends ~125 ms on the loss of SFT
/// and ~240 ms on tail-aware KD beside the projection's matmuls, most of it in exp (~24 ms a pass); this path makes one
/// pass and no [N, V] autograd buffers. Values equal the autograd path's to float rounding (logZ bit for bit: the same
/// ops as libtorch's logsumexp); a test compares both, values and gradients, for every top-K objective.
/// </remarks>
internal static class LogitGradient
{
    /// <summary>True when the objective reads the teacher as top-K rows or has no teacher (the full-vocabulary and
    /// sampled divergences need the whole logits in autograd).</summary>
    internal static bool Applies(KdObjective objective, TeacherSignal? teacher) => teacher is null || KdLoss.TopKOf(objective, teacher) is not null;

    /// <summary>
    /// The per-token terms (no graph) and d(Σ(total·mask)/normaliser)/d<paramref name="logits"/> [N, V] in the logits'
    /// dtype, for the caller's <c>logits.backward(gradient)</c>. Ids must have been checked. With
    /// <paramref name="overwriteLogits"/> the caller gives up the logits: their storage becomes the working block (fp32)
    /// or receives the gradient (bf16), and the returned gradient may share it.
    /// </summary>
    /// <remarks>
    /// Memory: every [N, V] step runs in place on one fp32 working block w (s = scale·x, then e = exp(s − m), then the
    /// gradient), so the chunk holds the logits and w, or w alone when the logits are fp32 and overwritten; a bf16
    /// gradient is copied into the overwritten logits (copy_ rounds as to_type does). The values are those of the
    /// out-of-place ops, bit for bit: the same kernels write the same numbers, in place or not (a test compares).
    /// </remarks>
    internal static (KdLossTerms Terms, Tensor Gradient) PerToken(KdObjective objective, Tensor logits, Tensor labels, TeacherSignal? teacher,
        Tensor? mask, double normaliser, bool overwriteLogits = false)
    {
        KdLoss.Check(objective, logits, labels, teacher, checkIds: false);
        using var scope = NewDisposeScope();
        var topK = KdLoss.TopKOf(objective, teacher);
        var labels64 = labels.to_type(ScalarType.Int64);
        var columns = KdLoss.Columns(labels64, topK);                                      // [N, 1 + K]
        var tail = topK is not null && objective.IsTailAware;
        var ids = tail ? KdLoss.TeacherIds(columns) : null;                                 // [N, K]
        var scale = objective.LogitsScale;
        var x = logits.detach();
        // Read before w overwrites x: exact upcast, the same values.
        var picked = LossMath.AtLeastFloat32(x.gather(1, columns)).requires_grad_(true);   // [N, 1 + K]
        Tensor e, sumE, logZ, logOutside, sumOutside;
        using (no_grad())
        {
            // libtorch's logsumexp, op for op: m = rowmax with ±inf read as 0, log Σ exp(s − m) + m.
            var wide = x.dtype is ScalarType.Float32 or ScalarType.Float64;
            var s = wide ? (overwriteLogits ? x : x.clone()) : x.to_type(ScalarType.Float32); // [N, V] fp32: w
            if (scale != 1) s.mul_(scale);
            var m = s.amax(new long[] { 1 }, keepdim: true);
            m.masked_fill_(m.abs().eq(double.PositiveInfinity), 0);
            e = s.sub_(m).exp_();                                                           // [N, V], still w
            sumE = e.sum(1, keepdim: true);
            logZ = sumE.log().add_(m);                                                      // [N, 1]
            // Σ over the tail of the same e: no difference of sums, so a confident student's tail does not cancel away. A
            // tail that underflows against m is far below TopKKd.RestFloor, where the loss clamps it anyway. The K entries
            // are zeroed in w for the sum and put back, instead of summing a zeroed copy of w.
            sumOutside = ids is null ? sumE : SumOutside(e, ids);
            logOutside = sumOutside.log().add_(m);
        }
        var logZLeaf = logZ.requires_grad_(true);
        var outsideLeaf = tail ? logOutside.requires_grad_(true) : null;
        var terms = KdLoss.Combine(objective, picked, logZLeaf, outsideLeaf, labels64, columns, teacher, topK, null);
        var loss = LossReduction.Normalised(terms.Total, mask, normaliser);
        if (loss.requires_grad) loss.backward();
        using (no_grad())
        {
            var onAll = logZLeaf.grad is { } gZ ? gZ * scale / sumE : zeros_like(sumE);      // [N, 1]
            var offK = outsideLeaf?.grad is { } gOut
                ? where(sumOutside.gt(0), gOut * scale / sumOutside, zeros_like(gOut))       // 0 where the clamp cut the gradient
                : null;
            // On the K ids only logZ's part: written, not subtracted, since off-K's coefficient can be 1e8 times onAll's.
            var atIds = offK is null ? null : e.gather(1, ids!) * onAll;
            var gradient = offK is null ? e.mul_(onAll) : e.mul_(onAll + offK);             // [N, V], still w
            if (atIds is not null) gradient.scatter_(1, ids!, atIds);
            if (picked.grad is { } gPicked) gradient.scatter_add_(1, columns, gPicked);
            var inLogitsType = gradient.dtype == logits.dtype ? gradient : overwriteLogits ? x.copy_(gradient) : gradient.to_type(logits.dtype);
            return (new KdLossTerms(terms.Total.detach().MoveToOuterDisposeScope(), terms.Kd.detach().MoveToOuterDisposeScope(),
                terms.Sft.detach().MoveToOuterDisposeScope()), inLogitsType.MoveToOuterDisposeScope());
        }
    }

    // Σ_v∉K e_v [N, 1]: the sum of e with its K entries zeroed, in e itself, whose K entries are then restored.
    private static Tensor SumOutside(Tensor e, Tensor ids)
    {
        var atIds = e.gather(1, ids);                                                       // [N, K]
        var sum = e.scatter_(1, ids, zeros_like(atIds)).sum(1, keepdim: true);
        e.scatter_(1, ids, atIds);
        return sum;
    }
}
