namespace Distill.Losses;

/// <summary>
/// Masked sums of the objective's parts and the supervised-token count, for evaluation: add the sums of
/// all batches, then divide once (<see cref="Mean"/>) so every token weighs the same.
/// </summary>
/// <param name="Total">Σ mask·(kd_weight·KD + sft_weight·CE).</param>
/// <param name="Kd">Σ mask·KD.</param>
/// <param name="Sft">Σ mask·CE.</param>
/// <param name="Tokens">Σ mask.</param>
public readonly record struct LossSums(double Total, double Kd, double Sft, double Tokens)
{
    /// <summary>Element-wise sum of two batches' sums.</summary>
    public static LossSums operator +(LossSums a, LossSums b) =>
        new(a.Total + b.Total, a.Kd + b.Kd, a.Sft + b.Sft, a.Tokens + b.Tokens);

    /// <summary>Element-wise sum (the named alternative to the + operator).</summary>
    public static LossSums Add(LossSums a, LossSums b) => a + b;

    /// <summary>The per-token means, each divided by max(Tokens, 1).</summary>
    public LossSums Mean()
    {
        var n = LossReduction.Normaliser(Tokens);
        return new(Total / n, Kd / n, Sft / n, Tokens);
    }
}
