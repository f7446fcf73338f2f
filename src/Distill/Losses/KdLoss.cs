using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>The combined per-token objective <c>kd_weight·KD + sft_weight·CE</c> of a <see cref="KdObjective"/>.</summary>
public static class KdLoss
{
    /// <summary>
    /// Per-token total, KD and CE parts for [N, V] student logits x. With s = logits_scale·x:
    /// CE = CE(s, label); KD per <see cref="KdObjective.Kind"/> against the teacher's signal (top-K or full),
    /// with both sides divided by the temperature, times T² when enabled.
    /// </summary>
    /// <remarks>
    /// With full teacher logits, fwd_kl/tail_fwd_kl are the exact KL(T‖S) and bwd_kl/tail_bwd_kl the exact
    /// KL(S‖T) over the shared vocabulary (JSD at β = 0 / 1): with the whole distribution there is no tail.
    /// Cost: the [N, V] logits are upcast once, and one logsumexp over them serves CE and tail-aware KD; the label
    /// and the teacher's K ids are gathered in one [N, 1 + K] gather from x before any upcast, so the backward pass
    /// scatters into one [N, V] gradient for both terms instead of one per term.
    /// </remarks>
    /// <param name="objective">The objective.</param>
    /// <param name="studentLogits">[N, V] student logits x (any float dtype).</param>
    /// <param name="labels">[N] int64/int32 next-token ids (negative = ignored row).</param>
    /// <param name="teacher">The teacher's signal for the same rows, or null for plain SFT.</param>
    /// <param name="checkIds">
    /// Check that labels and teacher ids index the vocabulary (one read back to the host). Per-chunk callers check all
    /// rows once up front (<see cref="LossTargets.CheckIds"/>) and pass false, so the chunk loop never waits on the device.
    /// </param>
    /// <exception cref="InvalidDataException">The objective is invalid, the teacher's signal lacks what the loss needs, or an id is out of range.</exception>
    public static KdLossTerms PerToken(KdObjective objective, Tensor studentLogits, Tensor labels, TeacherSignal? teacher, bool checkIds = true)
    {
        Check(objective, studentLogits, labels, teacher, checkIds);
        using var scope = NewDisposeScope();
        var topK = TopKOf(objective, teacher);
        var labels64 = labels.to_type(ScalarType.Int64);
        var columns = Columns(labels64, topK);                                            // [N, 1 + K]
        var picked = studentLogits.gather(1, columns);                                    // [N, 1 + K], model dtype
        var s = Scaled(studentLogits, objective.LogitsScale);                             // [N, V] fp32
        var logZ = s.logsumexp(1, keepdim: true);                                         // [N, 1]
        var logOutside = topK is not null && objective.IsTailAware ? TopKKd.LogSumExpOutside(s, TeacherIds(columns)) : null;
        var fullKd = teacher is not null && topK is null
            ? Divergence(objective, objective.KdWeight == 0 ? studentLogits.detach() : studentLogits, labels, teacher, checkIds) * objective.KdFactor
            : null;
        var terms = Combine(objective, picked, logZ, logOutside, labels64, columns, teacher, topK, fullKd);
        return new KdLossTerms(terms.Total.MoveToOuterDisposeScope(), terms.Kd.MoveToOuterDisposeScope(), terms.Sft.MoveToOuterDisposeScope());
    }

    /// <summary>The argument checks of <see cref="PerToken"/>, and the id check when <paramref name="checkIds"/>.</summary>
    internal static void Check(KdObjective objective, Tensor studentLogits, Tensor labels, TeacherSignal? teacher, bool checkIds)
    {
        objective.Validate();
        if (studentLogits.dim() != 2) throw new ArgumentException($"student logits [{string.Join(", ", studentLogits.shape)}] must be [N, V]");
        LossMath.CheckRows(studentLogits, labels, "logits", "labels");
        if (teacher is not null && teacher.Rows != studentLogits.shape[0])
            throw new ArgumentException($"teacher signal has {teacher.Rows} rows but student logits have {studentLogits.shape[0]}");
        if (checkIds) new LossTargets(labels, null, teacher).CheckIds(studentLogits.shape[1]);
    }

    /// <summary>The teacher when the KD term reads it as top-K rows (all but sampled_rkl), else null.</summary>
    internal static TeacherSignal? TopKOf(KdObjective objective, TeacherSignal? teacher) =>
        teacher is { IsTopK: true } && objective.Kind != KdLossKind.SampledRkl ? teacher : null;

    /// <summary>[N, 1 + K] int64: the label (ignored rows read column 0), then the teacher's K ids when top-K.</summary>
    internal static Tensor Columns(Tensor labels64, TeacherSignal? topK)
    {
        var columns = labels64.clamp_min(0).unsqueeze(1);                                  // [N, 1]
        return topK is null ? columns : cat(new[] { columns, topK.TopkIds!.to_type(ScalarType.Int64) }, 1);
    }

    /// <summary>The teacher's K ids of <see cref="Columns"/>, [N, K].</summary>
    internal static Tensor TeacherIds(Tensor columns) => columns.narrow(1, 1, columns.shape[1] - 1);

    /// <summary>
    /// The per-token terms from what they read of the [N, V] logits x: <paramref name="picked"/> = x at
    /// <paramref name="columns"/> (any float dtype), <paramref name="logZ"/> = logsumexp(s) and, for the tail-aware losses,
    /// <paramref name="logOutside"/> = logsumexp of s outside the K ids, with s = logits_scale·x (both [N, 1], fp32 or fp64).
    /// Everything here is [N, 1 + K] at most, so <see cref="LogitGradient"/> can take the gradient of these three alone.
    /// </summary>
    internal static KdLossTerms Combine(KdObjective objective, Tensor picked, Tensor logZ, Tensor? logOutside, Tensor labels64, Tensor columns,
        TeacherSignal? teacher, TeacherSignal? topK, Tensor? fullKd)
    {
        using var scope = NewDisposeScope();
        var sPicked = Scaled(picked, objective.LogitsScale);                              // [N, 1 + K] fp32
        // A term whose weight is 0 is still computed for the log but must not add to the gradient.
        Tensor ForSft(Tensor t) => objective.SftWeight == 0 ? t.detach() : t;
        Tensor ForKd(Tensor t) => objective.KdWeight == 0 ? t.detach() : t;
        var sft = Sft.FromParts(ForSft(logZ).squeeze(1), ForSft(sPicked).select(1, 0), labels64.lt(0));
        Tensor kd;
        if (teacher is null)
        {
            if (objective.KdWeight > 0)
                throw new InvalidDataException($"kd objective: kd_weight = {objective.KdWeight} but no teacher signal was given");
            kd = zeros_like(sft);
        }
        else if (topK is not null)
        {
            var k = topK.TopkIds!.shape[1];
            kd = TopKDivergence(objective, logOutside is null ? null : ForKd(logOutside), ForKd(logZ), ForKd(picked).narrow(1, 1, k),
                ForKd(sPicked).narrow(1, 1, k), topK) * objective.KdFactor;
        }
        else
        {
            kd = fullKd!;
        }
        var total = objective.KdWeight * kd + objective.SftWeight * sft;
        return new KdLossTerms(total.MoveToOuterDisposeScope(), kd.MoveToOuterDisposeScope(), sft.MoveToOuterDisposeScope());
    }

    // s = scale·x in fp32 (fp64 kept); no multiply when the scale is 1 (a full pass over [N, V] and its backward saved).
    internal static Tensor Scaled(Tensor x, double scale)
    {
        var wide = LossMath.AtLeastFloat32(x);
        return scale == 1 ? wide : wide * scale;
    }

    // x at the K ids (model dtype) for the renormalised losses, the log-normalisers for the tail-aware ones.
    private static Tensor TopKDivergence(KdObjective o, Tensor? logOutside, Tensor logZ, Tensor xAtIds, Tensor sAtIds, TeacherSignal teacher)
    {
        if (o.IsTailAware)
            return TopKKd.TailAwareFromParts(logOutside!, logZ, sAtIds, teacher.TopkLogits!, teacher.LogSumExp
                    ?? throw new InvalidDataException($"kd objective: {KdObjective.Name(o.Kind)} needs the teacher's logsumexp, which the signal lacks"),
                o.Kind == KdLossKind.TailFwdKl ? KlDirection.Forward : KlDirection.Backward);
        return TopKKd.Renormalised(o.Kind, o.Beta, xAtIds, teacher.TopkLogits!, o.LogitsScale / o.Temperature, o.TargetLogitsScale / o.Temperature);
    }

    private static Tensor Divergence(KdObjective o, Tensor x, Tensor labels, TeacherSignal teacher, bool checkIds)
    {
        if (o.Kind == KdLossKind.SampledRkl)
            return SampledReverseKl.PerToken(LossMath.AtLeastFloat32(x) * o.LogitsScale, labels, teacher.LabelLogProbsNoGrad(labels), checkIds);
        if (teacher.TopkIds is null && teacher.Logits is null && teacher.Hidden is null)
            throw new InvalidDataException($"kd objective: {KdObjective.Name(o.Kind)} needs the teacher's distribution, but the teacher gave only the log-probability of each token; use sampled_rkl");
        using var scope = NewDisposeScope();
        var t = teacher.FullLogitsNoGrad() * o.TargetLogitsScale;
        var beta = o.Kind switch { KdLossKind.FwdKl or KdLossKind.TailFwdKl => 0.0, KdLossKind.Jsd => o.Beta, _ => 1.0 };
        return FullVocabKd.GeneralizedJsd(LossMath.AtLeastFloat32(x) * o.LogitsScale, t, beta, o.Temperature).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Per-token parts of the objective, each [N]: <c>Total = kd_weight·Kd + sft_weight·Sft</c>, where Kd already
/// includes the T² factor when enabled. Kd and Sft are also reported when their weight is 0 (for logging);
/// then they carry no gradient.
/// </summary>
public sealed record KdLossTerms(Tensor Total, Tensor Kd, Tensor Sft);
