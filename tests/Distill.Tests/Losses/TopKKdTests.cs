using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class TopKKdTests
{
    private const int N = 7, V = 31, K = 5;

    private static (double[][] Student, long[][] Ids, double[][] TopLogits, double[] Lse) Problem(int seed, int n = N, int v = V, int k = K)
    {
        var student = RandomRows(seed, n, v);
        var (ids, logits, lse) = TopK(RandomRows(seed + 100, n, v), k);
        return (student, ids, logits, lse);
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(1.3, 0.7)]
    public void ForwardKl_And_BackwardKl_Should_Match_Naive_Values(double ls, double ts)
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(10);
        var fwd = TopKKd.ForwardKl(ToTensor(s), ToTensor(ids), ToTensor(t), ls, ts);
        var bwd = TopKKd.BackwardKl(ToTensor(s), ToTensor(ids), ToTensor(t), ls, ts);
        AssertAllClose(s.Select((r, i) => NaiveKd.TopK(r, ids[i], t[i], 0, ls, ts)).ToArray(), ToDoubles(fwd), 1e-5, "fwd");
        AssertAllClose(s.Select((r, i) => NaiveKd.TopK(r, ids[i], t[i], 1, ls, ts)).ToArray(), ToDoubles(bwd), 1e-5, "bwd");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void GeneralizedJsd_Should_Match_Naive_Values_On_The_K_Support(double beta)
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(11);
        var jsd = TopKKd.GeneralizedJsd(ToTensor(s), ToTensor(ids), ToTensor(t), beta, 0.8, 1.2);
        AssertAllClose(s.Select((r, i) => NaiveKd.TopK(r, ids[i], t[i], beta, 0.8, 1.2)).ToArray(), ToDoubles(jsd), 1e-5, "jsd");
    }

    [Fact]
    public void ForwardKl_Gradient_Should_Be_Q_Minus_P_On_The_Support_Times_Scale()
    {
        using var scope = NewDisposeScope();
        const double ls = 1.5, ts = 0.5;
        var (s, ids, t, _) = Problem(12);
        var x = ToTensor(s, ScalarType.Float64, requiresGrad: true);
        TopKKd.ForwardKl(x, ToTensor(ids), ToTensor(t, ScalarType.Float64), ls, ts).sum().backward();
        var expected = new double[N * V];
        for (var n = 0; n < N; n++)
        {
            var p = NaiveKd.Softmax(NaiveKd.Scale(t[n], ts));
            var q = NaiveKd.Softmax(NaiveKd.Scale(NaiveKd.Pick(s[n], ids[n]), ls));
            for (var k = 0; k < K; k++) expected[n * V + ids[n][k]] = ls * (q[k] - p[k]);
        }
        AssertAllClose(expected, ToDoubles(x.grad!), 1e-12, "grad");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void BackwardKl_And_Jsd_Gradients_Should_Match_Finite_Differences(double beta)
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(13, n: 3, v: 11);
        var idsT = ToTensor(ids);
        var tT = ToTensor(t, ScalarType.Float64);
        Tensor Loss(Tensor x) => TopKKd.GeneralizedJsd(x, idsT, tT, beta, 1.3, 0.9).sum();
        var x = ToTensor(s, ScalarType.Float64, requiresGrad: true);
        Loss(x).backward();
        var numeric = FiniteDifference(x.detach(), xi => Loss(xi).item<double>());
        AssertAllClose(numeric, ToDoubles(x.grad!), 1e-7, "grad");
    }

    [Fact]
    public void Kd_Should_Be_Zero_When_Student_Agrees_With_Teacher_On_The_Support()
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(14);
        for (var n = 0; n < N; n++)
            for (var k = 0; k < K; k++) s[n][ids[n][k]] = t[n][k] + 2.0 * n;   // per-row shift: same softmax_K
        var args = (ToTensor(s), ToTensor(ids), ToTensor(t));
        foreach (var loss in new[]
        {
            TopKKd.ForwardKl(args.Item1, args.Item2, args.Item3),
            TopKKd.BackwardKl(args.Item1, args.Item2, args.Item3),
            TopKKd.GeneralizedJsd(args.Item1, args.Item2, args.Item3, 0.5),
        })
            Assert.All(ToDoubles(loss), v => Assert.True(Math.Abs(v) < 1e-6, $"loss {v}"));
    }

    [Fact]
    public void TopK_Losses_Should_Accept_Int32_Ids_And_BFloat16_Teacher_Logits()
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(15);
        var tBf16 = ToTensor(t, ScalarType.BFloat16);
        var fwd = TopKKd.ForwardKl(ToTensor(s), ToTensor(ids).to_type(ScalarType.Int32), tBf16);
        Assert.Equal(ScalarType.Float32, fwd.dtype);
        var rounded = ToDoubles(tBf16).Chunk(K).ToArray();
        AssertAllClose(s.Select((r, i) => NaiveKd.TopK(r, ids[i], rounded[i], 0)).ToArray(), ToDoubles(fwd), 1e-5, "fwd");
    }

    [Fact]
    public void TopK_Losses_Should_Throw_When_An_Id_Is_Outside_The_Student_Vocabulary()
    {
        using var scope = NewDisposeScope();
        var (s, ids, t, _) = Problem(16);
        ids[3][2] = V;
        var ex = Assert.Throws<InvalidDataException>(() => TopKKd.ForwardKl(ToTensor(s), ToTensor(ids), ToTensor(t)));
        Assert.Contains("topk_ids", ex.Message);
    }
}
