using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// MiniLM's self-attention relation distillation ("MiniLM: Deep Self-Attention Distillation", Wang et al. 2020) for a
/// decoder: per head, the relation of queries to keys R = softmax(a·bᵀ / √D) over the causal keys (a = Q, b = K gives
/// the attention distribution itself; a = b = V the value relation), and KL(teacher ‖ student) per query row. Relations
/// are [heads, T, T] whatever the widths, so student and teacher may differ in width and head size. One example at a
/// time (no padding); the trainer picks the query rows and sums over layers.
/// </summary>
public static class AttentionRelations
{
    // A finite stand-in for −∞ at future keys: exp of it is exactly 0 in fp32, and unlike −∞ it keeps 0·(log p − log q)
    // and the gradients of the head-averaged log-sum-exp finite.
    private const float Masked = -1e9f;

    /// <summary>log softmax_k(a_q · b_k / √D) over keys k ≤ q, in fp32: [heads, T, T] (future keys ≈ −1e9).</summary>
    /// <param name="a">[heads, T, D] (queries, or values).</param>
    /// <param name="b">[heads, T, D] (keys with grouped heads repeated, or values).</param>
    public static Tensor LogRelation(Tensor a, Tensor b)
    {
        if (a.dim() != 3 || !a.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"relation inputs [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}] must both be [heads, T, D]");
        using var scope = NewDisposeScope();
        var t = a.shape[1];
        var scores = matmul(a.to_type(ScalarType.Float32), b.to_type(ScalarType.Float32).transpose(1, 2)) / Math.Sqrt(a.shape[2]);
        var future = ones(t, t, ScalarType.Bool, a.device).triu(1);
        return scores.masked_fill(future, Masked).log_softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Σ_{q ∈ rows} KL(teacher_q ‖ student_q) = Σ_q Σ_k p_t(k|q) (log p_t(k|q) − log p_s(k|q)). With
    /// <paramref name="matchHeads"/> head h is compared with head h and the KL is averaged over heads (MiniLM); otherwise
    /// each side's distributions are first averaged over its heads (p̄ = (1/H) Σ_h p_h), which is defined for any counts.
    /// </summary>
    /// <param name="teacher">[Ht, T, T] teacher log-relations (<see cref="LogRelation"/>).</param>
    /// <param name="student">[Hs, T, T] student log-relations.</param>
    /// <param name="rows">[R] int64 query positions to compare.</param>
    /// <param name="matchHeads">Compare head by head (needs Ht = Hs).</param>
    public static Tensor KlSum(Tensor teacher, Tensor student, Tensor rows, bool matchHeads)
    {
        if (matchHeads && teacher.shape[0] != student.shape[0])
            throw new ArgumentException($"cannot match {student.shape[0]} student heads with {teacher.shape[0]} teacher heads");
        using var scope = NewDisposeScope();
        var (t, s) = (teacher.index_select(1, rows), student.index_select(1, rows));      // [H, R, T]
        if (!matchHeads)
        {
            t = t.logsumexp(0) - Math.Log(t.shape[0]);                                  // [R, T]
            s = s.logsumexp(0) - Math.Log(s.shape[0]);
        }
        var kl = (t.exp() * (t - s)).sum(dim: -1);                                        // [H, R] or [R]
        var perRow = matchHeads ? kl.mean([0L]) : kl;
        return perRow.sum().MoveToOuterDisposeScope();
    }
}
