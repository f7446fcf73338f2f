using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// The on-policy reverse-KL estimator (Tinker's and NeMo-RL's on-policy distillation): for a token x_t the student
/// sampled itself, the single-sample estimate of KL(S‖T) at that step is d_t = log q(x_t) − log p(x_t), and its
/// policy-gradient update is the per-token advantage a_t = −d_t (detached) times ∇ log q(x_t). It needs only the
/// teacher's log-probability of each sampled token, which is all a served teacher can return.
/// </summary>
public static class SampledReverseKl
{
    /// <summary>
    /// Per-token loss whose value is d_t = log q(x_t) − log p(x_t) and whose gradient is d_t · ∇ log q(x_t), i.e.
    /// −a_t · ∇ log q(x_t) with a_t = −d_t detached: loss_t = d_t + (d_t · log q(x_t) − stop_grad(d_t · log q(x_t))).
    /// The value is the reverse-KL estimate (what is logged); the surrogate term is 0 in value and carries the gradient.
    /// Averaged over completion tokens, its expectation under the student's own samples is ∇ KL(S‖T) per token.
    /// </summary>
    /// <param name="studentLogits">[N, V] student logits (the sampled tokens are the labels).</param>
    /// <param name="labels">[N] int64/int32 sampled token ids, in [0, V).</param>
    /// <param name="teacherLogProbs">[N] the teacher's log-probability of each label (no gradient flows into it).</param>
    /// <param name="checkIds">Check the labels against the vocabulary (a host read); false when the caller checked them once up front.</param>
    /// <returns>[N] per-token losses, fp32 (fp64 kept).</returns>
    public static Tensor PerToken(Tensor studentLogits, Tensor labels, Tensor teacherLogProbs, bool checkIds = true)
    {
        LossMath.CheckRows(studentLogits, labels, "student logits", "labels");
        LossMath.CheckRows(studentLogits, teacherLogProbs, "student logits", "teacher log-probabilities");
        using var scope = NewDisposeScope();
        var s = LossMath.AtLeastFloat32(studentLogits);                                         // [N, V]
        var ids = LossMath.CheckedIds(labels.to_type(ScalarType.Int64), s.shape[1], "labels", checkIds);
        var logQ = s.log_softmax(1).gather(1, ids.unsqueeze(1)).squeeze(1);                    // [N]
        var d = (logQ - teacherLogProbs.to_type(logQ.dtype)).detach();                         // [N]
        var surrogate = d * logQ;
        return (d + (surrogate - surrogate.detach())).MoveToOuterDisposeScope();
    }
}
