using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// KD against a teacher's cached top-K logits (offline KD). All functions return per-token losses [N]
/// in fp32 (fp64 kept) and leave masking and normalisation to <see cref="LossReduction"/>.
/// </summary>
/// <remarks>
/// Naming follows NeMo-Aligner's <c>_TopKLogitsCrossEntropy</c>: forward KL is KL(teacher‖student),
/// backward KL is KL(student‖teacher). (NeMo-Aligner's older, unused <c>loss_func</c> has the two names the
/// other way round.) Temperature is folded into the scales by the caller: scale/T on both sides.
/// </remarks>
public static class TopKKd
{
    /// <summary>
    /// Floor for a "rest" bucket probability in <see cref="TailAware"/>. Below ~1e-7 a difference 1 − Σp
    /// computed in fp32 is rounding noise anyway.
    /// </summary>
    public const double RestFloor = 1e-8;

    /// <summary>
    /// NeMo-Aligner forward KL on the K support: with s = logits_scale·x,
    /// p = softmax_K(target_logits_scale·t), q = softmax_K(s[ids]),
    /// fwd_kl = Σ_k p_k (log p_k − log q_k). Gradient w.r.t. s[ids_k] is q_k − p_k.
    /// </summary>
    /// <param name="studentLogits">[N, V] student logits x.</param>
    /// <param name="topkIds">[N, K] teacher top-K token ids (int64 or int32), distinct per row.</param>
    /// <param name="teacherTopkLogits">[N, K] teacher logits t at those ids (any float dtype; a per-row shift does not matter).</param>
    /// <param name="logitsScale">Student scale (NeMo's logits_scale), already divided by the temperature.</param>
    /// <param name="targetLogitsScale">Teacher scale (NeMo's target_logits_scale), already divided by the temperature.</param>
    /// <returns>[N] per-token losses.</returns>
    public static Tensor ForwardKl(Tensor studentLogits, Tensor topkIds, Tensor teacherTopkLogits,
        double logitsScale = 1, double targetLogitsScale = 1)
    {
        using var scope = NewDisposeScope();
        var atIds = studentLogits.gather(1, CheckedSupport(studentLogits, topkIds, teacherTopkLogits));
        return Renormalised(KdLossKind.FwdKl, 0, atIds, teacherTopkLogits, logitsScale, targetLogitsScale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// NeMo-Aligner backward KL on the K support, bwd_kl = Σ_k q_k (log q_k − log p_k), with p and q as in
    /// <see cref="ForwardKl"/>. Mode-seeking: the student is not pushed to cover every teacher token.
    /// </summary>
    /// <inheritdoc cref="ForwardKl"/>
    public static Tensor BackwardKl(Tensor studentLogits, Tensor topkIds, Tensor teacherTopkLogits,
        double logitsScale = 1, double targetLogitsScale = 1)
    {
        using var scope = NewDisposeScope();
        var atIds = studentLogits.gather(1, CheckedSupport(studentLogits, topkIds, teacherTopkLogits));
        return Renormalised(KdLossKind.BwdKl, 0, atIds, teacherTopkLogits, logitsScale, targetLogitsScale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Generalized JSD(β) (TRL convention, see <see cref="FullVocabKd.GeneralizedJsd"/>) between p and q
    /// renormalised over the K support, so <c>jsd</c> also works from a top-K cache. β = 0 equals
    /// <see cref="ForwardKl"/>, β = 1 equals <see cref="BackwardKl"/>.
    /// </summary>
    /// <inheritdoc cref="ForwardKl"/>
    public static Tensor GeneralizedJsd(Tensor studentLogits, Tensor topkIds, Tensor teacherTopkLogits, double beta,
        double logitsScale = 1, double targetLogitsScale = 1)
    {
        KdObjective.CheckBeta(beta);
        using var scope = NewDisposeScope();
        var atIds = studentLogits.gather(1, CheckedSupport(studentLogits, topkIds, teacherTopkLogits));
        return Renormalised(KdLossKind.Jsd, beta, atIds, teacherTopkLogits, logitsScale, targetLogitsScale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Tail-aware top-K KD over K + 1 buckets, which removes the bias of renormalising over the K:
    /// teacher p_k = exp(t_k − lse) with p_rest = 1 − Σ_k p_k; student q_k = softmax_V(s)_ids_k over the
    /// full student vocabulary (padded rows included) with q_rest = 1 − Σ_k q_k; then
    /// fwd = Σ_{K+1} p (log p − log q) or bwd = Σ_{K+1} q (log q − log p), with s = logits_scale·x.
    /// </summary>
    /// <remarks>
    /// The cache's t and lse are the teacher's logits at scale 1 and temperature 1 (max-subtracted, lse over
    /// the teacher's whole vocabulary of max-subtracted logits); the teacher's tail cannot be rescaled from
    /// K values, so <see cref="KdObjective.Validate"/> rejects other teacher scales for this loss.
    /// The rest buckets are floored at <see cref="RestFloor"/>: 1 − Σp rounds to 0 or slightly below when
    /// the teacher puts (nearly) all mass on its top-K, or when lse was stored with rounding; log of that
    /// is −inf/NaN, and 0·(−inf) = NaN would poison the whole batch's gradient.
    /// q_rest is computed as logsumexp over the student logits outside the K ids rather than 1 − Σq, which
    /// cancels catastrophically when the student is confident.
    /// </remarks>
    /// <param name="studentLogits">[N, V] student logits x.</param>
    /// <param name="topkIds">[N, K] teacher top-K token ids, distinct per row.</param>
    /// <param name="teacherTopkLogits">[N, K] teacher logits, max-subtracted as in the cache.</param>
    /// <param name="teacherLogSumExp">[N] log Σ_v exp(t_v − max) over the teacher's full vocabulary.</param>
    /// <param name="direction">Forward KL(teacher‖student) or backward KL(student‖teacher).</param>
    /// <param name="logitsScale">Student scale.</param>
    /// <returns>[N] per-token losses.</returns>
    public static Tensor TailAware(Tensor studentLogits, Tensor topkIds, Tensor teacherTopkLogits, Tensor teacherLogSumExp,
        KlDirection direction, double logitsScale = 1)
    {
        LossMath.CheckRows(studentLogits, teacherLogSumExp, "student logits", "teacher logsumexp");
        using var scope = NewDisposeScope();
        var s = LossMath.AtLeastFloat32(studentLogits) * logitsScale;                 // [N, V]
        var ids = CheckedSupport(s, topkIds, teacherTopkLogits);                        // [N, K]
        var logZ = s.logsumexp(1, keepdim: true);                                       // [N, 1]
        return TailAwareFromParts(LogSumExpOutside(s, ids), logZ, s.gather(1, ids), teacherTopkLogits, teacherLogSumExp, direction)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [N, 1] log Σ_{v ∉ ids} exp(s_v), the log-normaliser of the student's tail: s with −∞ written at the K ids (one
    /// [N, V] copy; a bool mask and masked_fill would make two) through a logsumexp.
    /// </summary>
    internal static Tensor LogSumExpOutside(Tensor s, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var outside = s.scatter(1, ids, full(ids.shape, double.NegativeInfinity, s.dtype, s.device));
        return outside.logsumexp(1, keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="TailAware(Tensor, Tensor, Tensor, Tensor, KlDirection, double)"/> from parts the caller already has,
    /// so the CE term and this loss share one log-normaliser and one gather per chunk: only [N, 1] and [N, K] tensors.
    /// </summary>
    /// <param name="logOutside">[N, 1] log Σ over the vocabulary outside the K ids of exp(s) (<see cref="LogSumExpOutside"/>).</param>
    /// <param name="logZ">[N, 1] logsumexp of the scaled student logits s over the vocabulary, fp32 (fp64 kept).</param>
    /// <param name="sAtIds">[N, K] s at the teacher's ids.</param>
    /// <param name="teacherTopkLogits">[N, K] teacher logits, max-subtracted as in the cache.</param>
    /// <param name="teacherLogSumExp">[N] the teacher's log-normaliser.</param>
    /// <param name="direction">Forward or backward KL.</param>
    internal static Tensor TailAwareFromParts(Tensor logOutside, Tensor logZ, Tensor sAtIds, Tensor teacherTopkLogits, Tensor teacherLogSumExp,
        KlDirection direction)
    {
        using var scope = NewDisposeScope();
        var logQk = sAtIds - logZ;                                                      // [N, K]
        var logQRest = (logOutside - logZ).clamp_min(Math.Log(RestFloor));

        var t = teacherTopkLogits.to_type(logZ.dtype);
        var logPk = t - teacherLogSumExp.to_type(logZ.dtype).unsqueeze(1);              // [N, K]
        var logPRest = (1 - logPk.exp().sum(1, keepdim: true)).clamp_min(RestFloor).log();

        var logP = cat(new[] { logPk, logPRest }, 1);                                   // [N, K+1]
        var logQ = cat(new[] { logQk, logQRest }, 1);
        var kl = direction == KlDirection.Forward ? LossMath.Kl(logP, logQ) : LossMath.Kl(logQ, logP);
        return kl.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The renormalised top-K divergences (fwd_kl, bwd_kl, jsd) from the student's logits x at the K ids, gathered by
    /// the caller before any upcast: in bf16 only [N, K] values are widened to fp32, not the [N, V] logits.
    /// </summary>
    /// <param name="kind">FwdKl, BwdKl or Jsd.</param>
    /// <param name="beta">JSD's β (ignored for the KLs).</param>
    /// <param name="studentAtIds">[N, K] student logits x at the teacher's ids, in the model's dtype.</param>
    /// <param name="teacherTopkLogits">[N, K] teacher logits t.</param>
    /// <param name="logitsScale">Student scale, already divided by the temperature.</param>
    /// <param name="targetLogitsScale">Teacher scale, already divided by the temperature.</param>
    internal static Tensor Renormalised(KdLossKind kind, double beta, Tensor studentAtIds, Tensor teacherTopkLogits,
        double logitsScale, double targetLogitsScale)
    {
        using var scope = NewDisposeScope();
        var logQ = (LossMath.AtLeastFloat32(studentAtIds) * logitsScale).log_softmax(1);   // [N, K]
        var logP = (teacherTopkLogits.to_type(logQ.dtype) * targetLogitsScale).log_softmax(1);
        var divergence = kind switch
        {
            KdLossKind.FwdKl => LossMath.Kl(logP, logQ),
            KdLossKind.BwdKl => LossMath.Kl(logQ, logP),
            KdLossKind.Jsd => LossMath.GeneralizedJsd(logP, logQ, beta),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a renormalised top-K loss"),
        };
        return divergence.MoveToOuterDisposeScope();
    }

    private static Tensor CheckedSupport(Tensor student, Tensor topkIds, Tensor teacherTopkLogits)
    {
        LossMath.CheckRows(student, topkIds, "student logits", "topk_ids");
        if (!topkIds.shape.SequenceEqual(teacherTopkLogits.shape))
            throw new ArgumentException($"topk_ids has shape [{string.Join(", ", topkIds.shape)}] but topk_logits has [{string.Join(", ", teacherTopkLogits.shape)}]");
        return LossMath.CheckedIds(topkIds, student.shape[1], "topk_ids");
    }
}
