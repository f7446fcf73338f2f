using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class FullVocabKdTests
{
    private const int N = 7, V = 31;

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 1.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(0.0, 2.0)]
    [InlineData(0.3, 0.5)]
    [InlineData(1.0, 3.0)]
    public void GeneralizedJsd_Should_Match_Naive_Values(double beta, double temperature)
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(30, N, V);
        var t = RandomRows(31, N, V);
        var jsd = FullVocabKd.GeneralizedJsd(ToTensor(s), ToTensor(t), beta, temperature);
        AssertAllClose(s.Select((r, i) => NaiveKd.Full(r, t[i], beta, temperature)).ToArray(), ToDoubles(jsd), 1e-5, "jsd");
    }

    [Fact]
    public void GeneralizedJsd_Should_Be_Forward_Kl_At_Beta_0_And_Reverse_Kl_At_Beta_1()
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(32, N, V);
        var t = RandomRows(33, N, V);
        var atZero = ToDoubles(FullVocabKd.GeneralizedJsd(ToTensor(s), ToTensor(t), 0));
        var atOne = ToDoubles(FullVocabKd.GeneralizedJsd(ToTensor(s), ToTensor(t), 1));
        for (var i = 0; i < N; i++)
        {
            var (p, q) = (NaiveKd.Softmax(t[i]), NaiveKd.Softmax(s[i]));
            AssertClose(p.Select((pv, v) => pv * Math.Log(pv / q[v])).Sum(), atZero[i], 1e-5, "KL(T||S)");
            AssertClose(q.Select((qv, v) => qv * Math.Log(qv / p[v])).Sum(), atOne[i], 1e-5, "KL(S||T)");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void GeneralizedJsd_Gradient_Should_Match_Finite_Differences(double beta)
    {
        using var scope = NewDisposeScope();
        var tT = ToTensor(RandomRows(35, 3, 11), ScalarType.Float64);
        Tensor Loss(Tensor x) => FullVocabKd.GeneralizedJsd(x, tT, beta, 1.5).sum();
        var x = ToTensor(RandomRows(34, 3, 11), ScalarType.Float64, requiresGrad: true);
        Loss(x).backward();
        var numeric = FiniteDifference(x.detach(), xi => Loss(xi).item<double>());
        AssertAllClose(numeric, ToDoubles(x.grad!), 1e-7, "grad");
    }

    [Fact]
    public void GeneralizedJsd_Should_Be_Zero_For_Identical_Distributions()
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(36, N, V);
        var shifted = s.Select(r => r.Select(v => v + 5).ToArray()).ToArray();
        foreach (var beta in new[] { 0.0, 0.5, 1.0 })
            Assert.All(ToDoubles(FullVocabKd.GeneralizedJsd(ToTensor(s), ToTensor(shifted), beta, 2)), v => Assert.True(Math.Abs(v) < 1e-6));
    }

    [Fact]
    public void GeneralizedJsd_Should_Use_The_Shared_Prefix_When_Vocabularies_Differ_By_Padding()
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(37, 3, V + 33);                        // student padded to 64 rows
        var t = RandomRows(38, 3, V);
        var jsd = FullVocabKd.GeneralizedJsd(ToTensor(s), ToTensor(t), 0.5);
        var expected = s.Select((r, i) => NaiveKd.Full(r.Take(V).ToArray(), t[i], 0.5, 1)).ToArray();
        AssertAllClose(expected, ToDoubles(jsd), 1e-5, "jsd");
    }

    [Fact]
    public void GeneralizedJsd_Should_Throw_When_Vocabularies_Differ_By_More_Than_Padding()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<InvalidDataException>(() => FullVocabKd.GeneralizedJsd(zeros(2, 40), zeros(2, 40 + VocabAlignment.MaxPaddingRows + 1), 0.5));
        Assert.Contains("vocabulary size", ex.Message);
    }

    [Fact]
    public void GeneralizedJsd_Should_Reject_Beta_Outside_Unit_Interval()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => FullVocabKd.GeneralizedJsd(zeros(2, 5), zeros(2, 5), 1.5));
    }
}
