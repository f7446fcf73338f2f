namespace Distill.Losses;

/// <summary>Which way a KL divergence between teacher P and student Q is taken.</summary>
public enum KlDirection
{
    /// <summary>KL(P‖Q) = Σ p (log p − log q): mass-covering, the classic distillation objective.</summary>
    Forward,

    /// <summary>KL(Q‖P) = Σ q (log q − log p): mode-seeking.</summary>
    Backward,
}
