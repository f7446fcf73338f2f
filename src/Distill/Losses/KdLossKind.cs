namespace Distill.Losses;

/// <summary>The KD divergence, named as on the command line (<c>--kd-loss</c>) and in configs.</summary>
public enum KdLossKind
{
    /// <summary><c>fwd_kl</c>: KL(teacher‖student) renormalised over the teacher's top-K (NeMo-Aligner).</summary>
    FwdKl,

    /// <summary><c>bwd_kl</c>: KL(student‖teacher) renormalised over the teacher's top-K (NeMo-Aligner).</summary>
    BwdKl,

    /// <summary><c>tail_fwd_kl</c>: forward KL over the top-K plus one "rest" bucket, using the cached logsumexp.</summary>
    TailFwdKl,

    /// <summary><c>tail_bwd_kl</c>: backward KL over the top-K plus one "rest" bucket.</summary>
    TailBwdKl,

    /// <summary><c>jsd</c>: generalized JSD(β), over the full vocabulary or the renormalised top-K.</summary>
    Jsd,

    /// <summary>
    /// <c>sampled_rkl</c>: the on-policy reverse-KL estimator; needs only the teacher's log-probability of each label
    /// (the student's own sampled tokens), see <see cref="SampledReverseKl"/>.
    /// </summary>
    SampledRkl,
}

/// <summary>Which way a KL divergence between teacher P and student Q is taken.</summary>
public enum KlDirection
{
    /// <summary>KL(P‖Q) = Σ p (log p − log q): mass-covering, the classic distillation objective.</summary>
    Forward,

    /// <summary>KL(Q‖P) = Σ q (log q − log p): mode-seeking.</summary>
    Backward,
}
