using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Masking and global normalisation: loss = Σ(loss·mask) / max(Σmask, 1) where Σmask counts the supervised
/// tokens of the whole global batch, not of one micro-batch, so that accumulating micro-batch gradients
/// gives exactly the gradient of one big batch.
/// </summary>
public static class LossReduction
{
    /// <summary>Σ_i loss_i·mask_i as a scalar tensor; rows with mask 0 contribute 0 even if their loss is NaN or inf.</summary>
    /// <param name="perToken">[N] per-token losses.</param>
    /// <param name="mask">[N] mask (bool, integer or float weights) or null for all ones.</param>
    public static Tensor MaskedSum(Tensor perToken, Tensor? mask)
    {
        if (mask is null) return perToken.sum();
        using var scope = NewDisposeScope();
        var weights = mask.to_type(perToken.dtype);
        var weighted = where(mask.ne(0), perToken * weights, zeros_like(perToken));
        return weighted.sum().MoveToOuterDisposeScope();
    }

    /// <summary>Σmask (or N when the mask is null) as a double.</summary>
    public static double Count(Tensor? mask, long rows)
    {
        if (mask is null) return rows;
        using var scope = NewDisposeScope();
        return LossMath.ReadToHost<double>(mask.to_type(ScalarType.Float64).sum())[0];
    }

    /// <summary>max(supervised tokens, 1): the 1 avoids 0/0 = NaN for a batch without supervised tokens.</summary>
    public static double Normaliser(double supervisedTokens) => Math.Max(supervisedTokens, 1.0);

    /// <summary>Σ(loss·mask) / normaliser as a scalar tensor.</summary>
    public static Tensor Normalised(Tensor perToken, Tensor? mask, double normaliser)
    {
        if (!(normaliser > 0)) throw new ArgumentOutOfRangeException(nameof(normaliser), normaliser, "normaliser must be > 0");
        using var scope = NewDisposeScope();
        return (MaskedSum(perToken, mask) / normaliser).MoveToOuterDisposeScope();
    }
}
