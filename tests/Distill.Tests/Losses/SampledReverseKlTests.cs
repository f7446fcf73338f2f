using Distill.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class SampledReverseKlTests
{
    [Fact]
    public void Value_Should_Be_Log_Q_Minus_Log_P_And_Gradient_D_Times_Grad_Log_Q_On_A_Hand_Case()
    {
        using var scope = NewDisposeScope();
        // Student logits (0, ln 2, ln 3): q = (1/6, 2/6, 3/6). Sampled token 2: log q = ln 1/2; teacher log p = ln 1/4.
        // d = ln(1/2) − ln(1/4) = ln 2. ∂ log q(2) / ∂s = onehot(2) − q, so the gradient is ln 2 · (−1/6, −1/3, 1/2).
        var s = tensor(new[] { 0f, (float)Math.Log(2), (float)Math.Log(3) }).reshape(1, 3).requires_grad_(true);
        var loss = SampledReverseKl.PerToken(s, tensor(new long[] { 2 }), tensor(new[] { (float)Math.Log(0.25) }));
        Assert.Equal(Math.Log(2), loss.item<float>(), 5);
        loss.sum().backward();
        var g = s.grad!.data<float>().ToArray();
        var ln2 = Math.Log(2);
        Assert.Equal(-ln2 / 6, g[0], 5);
        Assert.Equal(-ln2 / 3, g[1], 5);
        Assert.Equal(ln2 / 2, g[2], 5);
    }

    [Fact]
    public void Expected_Gradient_Under_The_Students_Own_Samples_Should_Be_The_Reverse_Kl_Gradient()
    {
        using var scope = NewDisposeScope();
        // Score-function identity: Σ_x q(x)·d(x)·∇log q(x) = ∇ KL(q‖p), because Σ_x q(x)·∇log q(x) = ∇Σ q = 0.
        // Every token of a 7-word vocabulary as the "sample", weighted by its (detached) student probability.
        const int V = 7;
        var studentRow = randn(new long[] { 1, V }, ScalarType.Float32, generator: new Generator(3));
        var teacherLogP = randn(new long[] { V }, ScalarType.Float32, generator: new Generator(4)).log_softmax(0);
        var s = studentRow.expand(V, V).clone().requires_grad_(true);
        var perToken = SampledReverseKl.PerToken(s, arange(V, dtype: ScalarType.Int64), teacherLogP);
        var q = studentRow.softmax(1).select(0, 0);
        (perToken * q).sum().backward();
        var estimator = s.grad!.sum(dim: 0);

        var direct = studentRow.clone().requires_grad_(true);
        var logQ = direct.log_softmax(1).select(0, 0);
        (logQ.exp() * (logQ - teacherLogP)).sum().backward();
        Assert.True(estimator.allclose(direct.grad!.select(0, 0), rtol: 1e-4, atol: 1e-6), $"{estimator.str()} vs {direct.grad!.str()}");
        Assert.Equal((q * (q.log() - teacherLogP)).sum().item<float>(), (perToken.detach() * q).sum().item<float>(), 5);
    }

    [Fact]
    public void KdLoss_Should_Take_The_Teachers_Log_Probability_From_Full_Logits_Or_As_Given_And_Refuse_Top_K()
    {
        using var scope = NewDisposeScope();
        var objective = new KdObjective(KdLossKind.SampledRkl, KdWeight: 1, SftWeight: 0);
        var s = randn(5, 11, generator: new Generator(7));
        var t = randn(5, 11, generator: new Generator(8));
        var labels = tensor(new long[] { 0, 3, 10, 4, 4 });
        var fromLogits = KdLoss.PerToken(objective, s, labels, TeacherSignal.FullLogits(t)).Kd;
        var given = t.log_softmax(1).gather(1, labels.unsqueeze(1)).squeeze(1);
        var fromGiven = KdLoss.PerToken(objective, s, labels, TeacherSignal.LabelLogProbs(given)).Kd;
        var expected = s.log_softmax(1).gather(1, labels.unsqueeze(1)).squeeze(1) - given;
        Assert.True(fromLogits.allclose(expected, atol: 1e-5));
        Assert.True(fromGiven.allclose(expected, atol: 1e-5));

        var topK = TeacherSignal.TopK(t.topk(3).indexes, t.topk(3).values - t.max(1, keepdim: true).values);
        var e = Assert.Throws<InvalidDataException>(() => KdLoss.PerToken(objective, s, labels, topK));
        Assert.Contains("sampled_rkl", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => KdLoss.PerToken(new KdObjective(KdLossKind.FwdKl), s, labels, TeacherSignal.LabelLogProbs(given)));
        Assert.Contains("only the log-probability", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => new KdObjective(KdLossKind.SampledRkl, Temperature: 2).Validate());
    }

    [Fact]
    public void Generalized_Jsd_Should_Equal_A_Hand_Computed_Two_Token_Case()
    {
        using var scope = NewDisposeScope();
        // Teacher logits (0, 0): p = (1/2, 1/2). Student logits (0, ln 4): q = (1/5, 4/5). β = 1/2: m = (0.35, 0.65).
        // JSD = ½·KL(p‖m) + ½·KL(q‖m) = ½·½·ln(100/91) + ½·(0.2·ln(4/7) + 0.8·ln(16/13)).
        var expected = 0.25 * Math.Log(100.0 / 91) + 0.5 * (0.2 * Math.Log(4.0 / 7) + 0.8 * Math.Log(16.0 / 13));
        var jsd = FullVocabKd.GeneralizedJsd(tensor(new[] { 0f, (float)Math.Log(4) }).reshape(1, 2), zeros(1, 2), beta: 0.5);
        Assert.Equal(expected, jsd.item<float>(), 6);
    }
}
