using Distill.Losses;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>Cosine and MSE feature terms against values and gradients derived by hand.</summary>
public sealed class FeatureLossesTests
{
    [Fact]
    public void Cosine_Should_Match_The_Hand_Derived_Value_And_Gradient()
    {
        // Row 1: s = (3, 4), t = (4, 3): cos = 24 / 25, so 1 − cos = 0.04; ∂(1 − cos)/∂s = −t/(|s||t|) + (s·t) s/(|s|³|t|)
        //        = −(0.16, 0.12) + 24·(3, 4)/625 = (−0.0448, 0.0336).
        // Row 2: s = (1, 0), t = (0, 2): cos = 0, so 1; gradient −t/(1·2) = (0, −1).
        using var s = tensor(new float[] { 3, 4, 1, 0 }, [2, 2]).requires_grad_(true);
        using var t = tensor(new float[] { 4, 3, 0, 2 }, [2, 2]);
        using var loss = FeatureLosses.CosineSum(s, t);
        loss.backward();
        Assert.Equal(1.04, loss.item<float>(), 5);
        Assert.Equal(new[] { -0.0448f, 0.0336f, 0f, -1f }, s.grad!.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Cosine_Should_Take_A_Norm_Below_Eps_As_Eps()
    {
        // A zero student state: s·t = 0, so 1 − 0/(ε·1) = 1 (PyTorch's cosine_similarity gives 0 there, not NaN).
        using var s = zeros(1, 3);
        using var t = tensor(new float[] { 1, 0, 0 }, [1, 3]);
        Assert.Equal(1.0, FeatureLosses.CosineSum(s, t).item<float>(), 6);
    }

    [Fact]
    public void Mse_Should_Match_The_Hand_Derived_Value_And_Gradient()
    {
        // Row 1: (1² + 2² + 3²)/3 = 14/3; row 2 equal, 0. Gradient 2(s − t)/H: (2/3, 4/3, 2) and zeros.
        using var s = tensor(new float[] { 1, 2, 3, 1, 1, 1 }, [2, 3]).requires_grad_(true);
        using var t = tensor(new float[] { 0, 0, 0, 1, 1, 1 }, [2, 3]);
        using var loss = FeatureLosses.MseSum(s, t);
        loss.backward();
        Assert.Equal(14.0 / 3, loss.item<float>(), 5);
        Assert.Equal(new[] { 2f / 3, 4f / 3, 2f, 0, 0, 0 }, s.grad!.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Both_Should_Be_Zero_When_The_States_Agree()
    {
        using var g = new TorchSharp.torch.Generator(5);
        using var s = randn([7, 12], generator: g);
        using var t = s.clone();
        Assert.Equal(0.0, FeatureLosses.CosineSum(s, t).item<float>(), 5);
        Assert.Equal(0.0, FeatureLosses.MseSum(s, t).item<float>());
    }

    [Fact]
    public void Both_Should_Refuse_States_Of_Different_Shapes()
    {
        using var s = zeros(3, 4);
        using var t = zeros(3, 5);
        Assert.Contains("[3, 4]", Assert.Throws<ArgumentException>(() => FeatureLosses.CosineSum(s, t)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FeatureLosses.MseSum(s, t));
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
