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
    /// </remarks>
    /// <exception cref="InvalidDataException">The objective is invalid, or the teacher's signal lacks what the loss needs.</exception>
    public static KdLossTerms PerToken(KdObjective objective, Tensor studentLogits, Tensor labels, TeacherSignal? teacher)
    {
        objective.Validate();
        if (studentLogits.dim() != 2) throw new ArgumentException($"student logits [{string.Join(", ", studentLogits.shape)}] must be [N, V]");
        using var scope = NewDisposeScope();
        var s = LossMath.AtLeastFloat32(studentLogits) * objective.LogitsScale;          // [N, V]
        var sft = Sft.CrossEntropy(objective.SftWeight == 0 ? s.detach() : s, labels);
        Tensor kd;
        if (teacher is null)
        {
            if (objective.KdWeight > 0)
                throw new InvalidDataException($"kd objective: kd_weight = {objective.KdWeight} but no teacher signal was given");
            kd = zeros_like(sft);
        }
        else
        {
            var x = objective.KdWeight == 0 ? studentLogits.detach() : studentLogits;
            kd = Divergence(objective, x, labels, teacher) * objective.KdFactor;
        }
        var total = objective.KdWeight * kd + objective.SftWeight * sft;
        return new KdLossTerms(total.MoveToOuterDisposeScope(), kd.MoveToOuterDisposeScope(), sft.MoveToOuterDisposeScope());
    }

    private static Tensor Divergence(KdObjective o, Tensor x, Tensor labels, TeacherSignal teacher)
    {
        if (teacher.Rows != x.shape[0])
            throw new ArgumentException($"teacher signal has {teacher.Rows} rows but student logits have {x.shape[0]}");
        if (o.Kind == KdLossKind.SampledRkl)
            return SampledReverseKl.PerToken(LossMath.AtLeastFloat32(x) * o.LogitsScale, labels, teacher.LabelLogProbsNoGrad(labels));
        if (teacher.TopkIds is null && teacher.Logits is null && teacher.Hidden is null)
            throw new InvalidDataException($"kd objective: {KdObjective.Name(o.Kind)} needs the teacher's distribution, but the teacher gave only the log-probability of each token; use sampled_rkl");
        var studentScale = o.LogitsScale / o.Temperature;
        var teacherScale = o.TargetLogitsScale / o.Temperature;
        if (!teacher.IsTopK)
        {
            using var scope = NewDisposeScope();
            var t = teacher.FullLogitsNoGrad() * o.TargetLogitsScale;
            var beta = o.Kind switch { KdLossKind.FwdKl or KdLossKind.TailFwdKl => 0.0, KdLossKind.Jsd => o.Beta, _ => 1.0 };
            return FullVocabKd.GeneralizedJsd(LossMath.AtLeastFloat32(x) * o.LogitsScale, t, beta, o.Temperature).MoveToOuterDisposeScope();
        }
        var (ids, logits) = (teacher.TopkIds!, teacher.TopkLogits!);
        return o.Kind switch
        {
            KdLossKind.FwdKl => TopKKd.ForwardKl(x, ids, logits, studentScale, teacherScale),
            KdLossKind.BwdKl => TopKKd.BackwardKl(x, ids, logits, studentScale, teacherScale),
            KdLossKind.Jsd => TopKKd.GeneralizedJsd(x, ids, logits, o.Beta, studentScale, teacherScale),
            _ => TopKKd.TailAware(x, ids, logits, teacher.LogSumExp
                    ?? throw new InvalidDataException($"kd objective: {KdObjective.Name(o.Kind)} needs the teacher's logsumexp, which the signal lacks"),
                o.Kind == KdLossKind.TailFwdKl ? KlDirection.Forward : KlDirection.Backward, o.LogitsScale),
        };
    }
}
