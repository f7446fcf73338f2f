using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Hidden-state (feature) distillation terms between the student's states, already projected to the teacher's width,
/// and the teacher's states at the same rows. Each returns a sum over rows (fp32 scalar) so the trainer normalises it
/// over the global batch as it does KD and CE.
/// </summary>
public static class FeatureLosses
{
    /// <summary>The ε of PyTorch's <c>cosine_similarity</c>: norms below it are taken as ε.</summary>
    public const double CosineEps = 1e-8;

    /// <summary>
    /// DistilBERT's cosine embedding loss (target 1): Σ_r (1 − cos(s_r, t_r)) with
    /// cos(s, t) = s·t / (max(‖s‖, ε) · max(‖t‖, ε)).
    /// </summary>
    /// <param name="student">[R, H] student states (projected).</param>
    /// <param name="teacher">[R, H] teacher states.</param>
    public static Tensor CosineSum(Tensor student, Tensor teacher)
    {
        Check(student, teacher);
        using var scope = NewDisposeScope();
        var (s, t) = (student.to_type(ScalarType.Float32), teacher.to_type(ScalarType.Float32));
        var dot = (s * t).sum(dim: 1);
        var norms = s.norm(1).clamp_min(CosineEps) * t.norm(1).clamp_min(CosineEps);
        return (1 - dot / norms).sum().MoveToOuterDisposeScope();
    }

    /// <summary>Mean squared error per element, summed over rows: Σ_r (1/H) Σ_h (s_rh − t_rh)².</summary>
    /// <param name="student">[R, H] student states (projected).</param>
    /// <param name="teacher">[R, H] teacher states.</param>
    public static Tensor MseSum(Tensor student, Tensor teacher)
    {
        Check(student, teacher);
        using var scope = NewDisposeScope();
        var diff = student.to_type(ScalarType.Float32) - teacher.to_type(ScalarType.Float32);
        return (diff.square().sum() / student.shape[1]).MoveToOuterDisposeScope();
    }

    private static void Check(Tensor student, Tensor teacher)
    {
        if (student.dim() != 2 || !student.shape.SequenceEqual(teacher.shape))
            throw new ArgumentException($"student states [{string.Join(", ", student.shape)}] and teacher states [{string.Join(", ", teacher.shape)}] must both be [R, H]");
    }
}
