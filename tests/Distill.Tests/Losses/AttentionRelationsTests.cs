using Distill.Losses;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>MiniLM's relation KL against a naive fp64 reference written out with loops from the definition.</summary>
public sealed class AttentionRelationsTests
{
    private const int T = 6, D = 4;

    [Theory]
    [InlineData(2, 2, true)]
    [InlineData(2, 2, false)]
    [InlineData(3, 2, false)]
    public void KlSum_Should_Equal_A_Naive_Reference_In_Value_And_Gradient(int teacherHeads, int studentHeads, bool match)
    {
        using var g = new TorchSharp.torch.Generator(17);
        var (tq, tk) = (randn([teacherHeads, T, D], generator: g), randn([teacherHeads, T, D], generator: g));
        var sq = randn([studentHeads, T, D], generator: g).requires_grad_(true);
        var sk = randn([studentHeads, T, D], generator: g).requires_grad_(true);
        long[] rows = [0, 2, 5];

        var loss = AttentionRelations.KlSum(AttentionRelations.LogRelation(tq, tk), AttentionRelations.LogRelation(sq, sk), tensor(rows), match);
        loss.backward();

        var (rq, rk) = (sq.detach().to_type(ScalarType.Float64).requires_grad_(true), sk.detach().to_type(ScalarType.Float64).requires_grad_(true));
        var expected = Naive(Probabilities(tq.to_type(ScalarType.Float64), tk.to_type(ScalarType.Float64)), Probabilities(rq, rk), rows, match);
        expected.backward();
        Assert.Equal(expected.item<double>(), loss.item<float>(), 4);
        Assert.True(sq.grad!.allclose(rq.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "query gradients differ");
        Assert.True(sk.grad!.allclose(rk.grad!.to_type(ScalarType.Float32), rtol: 1e-4, atol: 1e-6), "key gradients differ");
    }

    [Fact]
    public void KlSum_Should_Be_Zero_For_Equal_Relations_And_Refuse_Unmatched_Heads()
    {
        using var g = new TorchSharp.torch.Generator(3);
        var (q, k) = (randn([2, T, D], generator: g), randn([2, T, D], generator: g));
        var r = AttentionRelations.LogRelation(q, k);
        Assert.Equal(0.0, AttentionRelations.KlSum(r, r, arange(T), matchHeads: true).item<float>(), 6);
        var three = AttentionRelations.LogRelation(randn([3, T, D], generator: g), randn([3, T, D], generator: g));
        var e = Assert.Throws<ArgumentException>(() => AttentionRelations.KlSum(three, r, arange(T), matchHeads: true));
        Assert.Contains("2 student heads with 3 teacher heads", e.Message, StringComparison.Ordinal);
    }

    // p[h][q][k] = exp(a_q·b_k/√D) / Σ_{k' ≤ q} exp(a_q·b_k'/√D) for k ≤ q, else 0; one scalar tensor per entry so the
    // gradient flows through the loops.
    private static Tensor[][][] Probabilities(Tensor a, Tensor b)
    {
        var heads = (int)a.shape[0];
        var p = new Tensor[heads][][];
        for (var h = 0; h < heads; h++)
        {
            p[h] = new Tensor[T][];
            for (var q = 0; q < T; q++)
            {
                var scores = Enumerable.Range(0, q + 1).Select(k => (a[h, q] * b[h, k]).sum() / Math.Sqrt(D)).ToArray();
                var exps = scores.Select(s => s.exp()).ToArray();
                var sum = exps.Aggregate((x, y) => x + y);
                p[h][q] = Enumerable.Range(0, T).Select(k => k <= q ? exps[k] / sum : zeros(Array.Empty<long>(), ScalarType.Float64)).ToArray();
            }
        }
        return p;
    }

    // Σ_q over rows: matched, (1/H) Σ_h KL(t_h,q ‖ s_h,q); averaged, KL(mean_h t_h,q ‖ mean_h s_h,q); 0·log 0 taken as 0.
    private static Tensor Naive(Tensor[][][] t, Tensor[][][] s, long[] rows, bool match)
    {
        var total = zeros(Array.Empty<long>(), ScalarType.Float64);
        foreach (var q in rows)
        {
            if (match)
            {
                for (var h = 0; h < t.Length; h++) total = total + Kl(t[h][q], s[h][q]) / t.Length;
                continue;
            }
            total = total + Kl(Mean(t, (int)q), Mean(s, (int)q));
        }
        return total;
    }

    private static Tensor[] Mean(Tensor[][][] p, int q) =>
        Enumerable.Range(0, T).Select(k => p.Select(head => head[q][k]).Aggregate((x, y) => x + y) / p.Length).ToArray();

    private static Tensor Kl(Tensor[] p, Tensor[] q)
    {
        var total = zeros(Array.Empty<long>(), ScalarType.Float64);
        for (var k = 0; k < p.Length; k++)
            if (p[k].item<double>() > 0) total = total + p[k] * (p[k].log() - q[k].log());
        return total;
    }
}
