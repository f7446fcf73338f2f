using Distill.Generation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Generation;

/// <summary>The token-choice functions on fixed logit vectors, against distributions worked out by hand.</summary>
public sealed class SamplingFiltersTests
{
    // Probabilities 0.05, 0.5, 0.1, 0.2, 0.15 in a shuffled order; sorted: 0.5, 0.2, 0.15, 0.1, 0.05 with
    // preceding masses 0, 0.5, 0.7, 0.85, 0.95.
    private static readonly double[] Probabilities = [0.05, 0.5, 0.1, 0.2, 0.15];

    private static Tensor Logits(params double[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(p => (float)Math.Log(p) + 3f)).ToArray()).view(rows.Length, rows[0].Length);

    private static double[] Softmax(Tensor logits) => logits.softmax(-1).to_type(ScalarType.Float64).data<double>().ToArray();

    private static void AssertDistribution(double[] expected, double[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"entry {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(0.8, new[] { 0, 0.5 / 0.85, 0, 0.2 / 0.85, 0.15 / 0.85 })] // 0.7 < 0.8: the third (0.15) is needed
    [InlineData(0.69, new[] { 0, 0.5 / 0.7, 0, 0.2 / 0.7, 0 })]            // 0.5 < 0.69 ≤ 0.7: two tokens
    [InlineData(0.5, new[] { 0, 1.0, 0, 0, 0 })]                           // the top token alone reaches 0.5
    [InlineData(0.3, new[] { 0, 1.0, 0, 0, 0 })]                           // the top token is always kept
    [InlineData(0.96, new[] { 0.05, 0.5, 0.1, 0.2, 0.15 })]                // 0.95 < 0.96: everything
    public void TopPFilter_Should_Keep_The_Smallest_Most_Likely_Set_Reaching_P(double p, double[] expected)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(Probabilities);

        var filtered = SamplingFilters.TopPFilter(logits, p);

        AssertDistribution(expected, Softmax(filtered[0]));
    }

    [Fact]
    public void TopPFilter_Should_Work_Row_By_Row_And_Keep_Ties_With_The_Last_Kept_Token()
    {
        using var scope = NewDisposeScope();
        // Row 0: three tied tokens of probability e/(3e+2) ≈ 0.268 each and two of 1/(3e+2) ≈ 0.099. With p = 0.5 the
        // sorted prefix keeps two of the tied tokens (preceding masses 0, 0.268, 0.536); the third ties with the last
        // kept, so it stays too. Row 1: the shared fixture at p = 0.5, the top token alone.
        var logits = cat(new[] { tensor(new float[] { 1, 1, 0, 1, 0 }).unsqueeze(0), Logits(Probabilities) }, 0);

        var filtered = SamplingFilters.TopPFilter(logits, 0.5);

        var third = 1.0 / 3;
        AssertDistribution([third, third, 0, third, 0], Softmax(filtered[0]));
        AssertDistribution([0, 1, 0, 0, 0], Softmax(filtered[1]));
    }

    [Fact]
    public void TopPFilter_At_One_And_TopKFilter_At_The_Vocabulary_Size_Should_Change_Nothing()
    {
        using var scope = NewDisposeScope();
        var logits = Logits(Probabilities);

        Assert.True(SamplingFilters.TopPFilter(logits, 1.0).eq(logits).all().item<bool>());
        Assert.True(SamplingFilters.TopKFilter(logits, 5).eq(logits).all().item<bool>());
        Assert.True(SamplingFilters.TopKFilter(logits, 99).eq(logits).all().item<bool>());
    }

    [Theory]
    [InlineData(1, new[] { 0, 1.0, 0, 0, 0 })]
    [InlineData(2, new[] { 0, 0.5 / 0.7, 0, 0.2 / 0.7, 0 })]
    [InlineData(3, new[] { 0, 0.5 / 0.85, 0, 0.2 / 0.85, 0.15 / 0.85 })]
    [InlineData(4, new[] { 0, 0.5 / 0.95, 0.1 / 0.95, 0.2 / 0.95, 0.15 / 0.95 })]
    public void TopKFilter_Should_Keep_The_K_Most_Likely_Renormalised(int k, double[] expected)
    {
        using var scope = NewDisposeScope();

        var filtered = SamplingFilters.TopKFilter(Logits(Probabilities), k);

        AssertDistribution(expected, Softmax(filtered[0]));
    }

    [Fact]
    public void TopKFilter_Should_Keep_Every_Token_Tied_With_The_Kth()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0.3f, 2.0f, -1f, 2.0f, 0.5f, 1.0f }).unsqueeze(0);

        var filtered = SamplingFilters.TopKFilter(logits, 1)[0].data<float>().ToArray();

        Assert.Equal([float.NegativeInfinity, 2.0f, float.NegativeInfinity, 2.0f, float.NegativeInfinity, float.NegativeInfinity], filtered);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.7)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    public void TopP_Among_The_Most_Likely_Candidates_Should_Equal_The_Full_Sort_Where_They_Hold_Mass_P(double p)
    {
        using var scope = NewDisposeScope();
        // 7 rows over 61 tokens, from sharp (scale 4) to flat (scale 0.05), so some rows' nucleus is wider than 8.
        var scales = tensor(new float[] { 4, 2, 1, 0.5f, 0.2f, 0.1f, 0.05f }).unsqueeze(1);
        var logits = randn(7, 61, generator: new Generator(17)) * scales;

        var full = SamplingFilters.TopPFilter(logits, p);
        var fast = SamplingFilters.TopPAmongCandidates(logits, p, 8, out var covered);

        var mass = logits.softmax(-1).topk(8).values.sum(-1);
        for (var row = 0; row < 7; row++)
        {
            Assert.Equal(mass[row].item<float>() >= p, covered[row].item<bool>());
            if (covered[row].item<bool>()) Assert.True(fast[row].eq(full[row]).all().item<bool>(), $"row {row} differs");
        }
        if (p < 0.95) Assert.Contains(true, covered.data<bool>().ToArray());
        if (p > 0.3) Assert.Contains(false, covered.data<bool>().ToArray());
    }

    [Fact]
    public void InverseCdf_Should_Pick_The_First_Token_Whose_Cumulative_Mass_Exceeds_U_And_Never_A_Zero()
    {
        using var scope = NewDisposeScope();
        // Cumulative masses 0.125, 0.125, 0.75, 1, 1 (binary fractions, exact in fp32).
        var probabilities = tensor(new float[] { 0.125f, 0, 0.625f, 0.25f, 0 }).unsqueeze(0).expand(7, 5);
        var uniforms = tensor(new float[] { 0, 0.1f, 0.125f, 0.5f, 0.75f, 0.9999999f, 1.0f });

        var chosen = SamplingFilters.InverseCdf(probabilities, uniforms).data<long>().ToArray();

        // u = 0.125 sits on a boundary: c_0 = 0.125 is not > u, and token 1 has no mass, so token 2.
        // u = 1 is outside [0, 1) and stands for rounding up to the total: the last token with mass, 3, not 4.
        Assert.Equal([0L, 0, 2, 2, 3, 3, 3], chosen);
    }

    [Fact]
    public void NextTokens_Should_Draw_Temperature_TopK_TopP_Filtered_Probabilities()
    {
        using var scope = NewDisposeScope();
        // Logits ln p with p = 0.05, 0.5, 0.1, 0.2, 0.15 at temperature 0.5 become ln p²: weights 0.0025, 0.25, 0.01,
        // 0.04, 0.0225 (sum 0.325). Top-k 4 drops 0.0025: mass 0.3225, sorted 0.25, 0.04, 0.0225, 0.01. Top-p 0.85:
        // preceding masses 0, 0.775, 0.899, … so 0.25 and 0.04 stay (0.775 < 0.85) and 0.0225 does not (0.899 ≥ 0.85).
        // Left: 0.25 / 0.29 and 0.04 / 0.29.
        var expected = new[] { 0, 0.25 / 0.29, 0, 0.04 / 0.29, 0 };
        const int draws = 1000;
        var logits = Logits(Probabilities).expand(draws, 5);
        var uniforms = (arange(draws, dtype: ScalarType.Float32) + 0.5f) / draws; // stratified: counts are exact to ±1
        var options = new SamplingOptions { Temperature = 0.5, TopK = 4, TopP = 0.85 };

        var chosen = SamplingFilters.NextTokens(logits, options, uniforms).data<long>().ToArray();

        for (var v = 0; v < 5; v++)
        {
            var count = chosen.Count(c => c == v);
            Assert.True(Math.Abs(count - expected[v] * draws) <= 1, $"token {v}: {count} of {draws}, expected {expected[v] * draws:F1}");
        }
    }

    [Fact]
    public void NextTokens_At_Temperature_Zero_Should_Be_The_Argmax_Without_Uniforms()
    {
        using var scope = NewDisposeScope();
        var logits = cat(new[] { Logits(Probabilities), Logits([0.1, 0.2, 0.3, 0.35, 0.05]) }, 0);

        var chosen = SamplingFilters.NextTokens(logits, SamplingOptions.Greedy(1, []), null).data<long>().ToArray();

        Assert.Equal([1L, 3], chosen);
    }
}
