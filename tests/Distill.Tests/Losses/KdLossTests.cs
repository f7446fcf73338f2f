using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class KdLossTests
{
    private const int N = 7, V = 31, K = 5;
    private static readonly long[] Labels = { 3, 0, 30, 7, 7, 19, 2 };

    private static double NaiveKdTerm(KdObjective o, double[] x, long[] ids, double[] t, double lse)
    {
        var (ls, ts, temp) = (o.LogitsScale, o.TargetLogitsScale, o.Temperature);
        var kd = o.Kind switch
        {
            KdLossKind.FwdKl => NaiveKd.TopK(x, ids, t, 0, ls / temp, ts / temp),
            KdLossKind.BwdKl => NaiveKd.TopK(x, ids, t, 1, ls / temp, ts / temp),
            KdLossKind.Jsd => NaiveKd.TopK(x, ids, t, o.Beta, ls / temp, ts / temp),
            _ => NaiveKd.Tail(x, ids, t, lse, o.Kind == KdLossKind.TailFwdKl, ls),
        };
        return o.TSquared ? kd * temp * temp : kd;
    }

    public static TheoryData<KdObjective> TopKObjectives => new()
    {
        new KdObjective(KdLossKind.FwdKl, KdWeight: 1, SftWeight: 0.4),
        new KdObjective(KdLossKind.FwdKl, KdWeight: 0.7, SftWeight: 0.3, LogitsScale: 1.2, TargetLogitsScale: 0.8, Temperature: 2),
        new KdObjective(KdLossKind.FwdKl, KdWeight: 0.7, SftWeight: 0.3, Temperature: 2, TSquared: true),
        new KdObjective(KdLossKind.BwdKl, KdWeight: 1, SftWeight: 0.1, Temperature: 0.5, TSquared: true),
        new KdObjective(KdLossKind.Jsd, KdWeight: 1, SftWeight: 0.2, Beta: 0.3, Temperature: 1.5),
        new KdObjective(KdLossKind.TailFwdKl, KdWeight: 0.9, SftWeight: 0.1, LogitsScale: 1.2),
        new KdObjective(KdLossKind.TailBwdKl, KdWeight: 2, SftWeight: 0),
    };

    [Theory]
    [MemberData(nameof(TopKObjectives))]
    public void PerToken_Should_Be_Weighted_Sum_Of_Naive_Kd_And_Ce_With_A_TopK_Teacher(KdObjective o)
    {
        using var scope = NewDisposeScope();
        var x = RandomRows(40, N, V);
        var (ids, t, lse) = TopK(RandomRows(41, N, V), K);
        var teacher = TeacherSignal.TopK(ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32));
        var terms = KdLoss.PerToken(o, ToTensor(x), tensor(Labels), teacher);
        var kd = x.Select((r, i) => NaiveKdTerm(o, r, ids[i], t[i], lse[i])).ToArray();
        var ce = x.Select((r, i) => NaiveKd.CrossEntropy(NaiveKd.Scale(r, o.LogitsScale), Labels[i])).ToArray();
        AssertAllClose(kd, ToDoubles(terms.Kd), 1e-5, "kd");
        AssertAllClose(ce, ToDoubles(terms.Sft), 1e-5, "ce");
        AssertAllClose(kd.Select((k, i) => o.KdWeight * k + o.SftWeight * ce[i]).ToArray(), ToDoubles(terms.Total), 1e-5, "total");
    }

    [Theory]
    [InlineData(KdLossKind.FwdKl, 0.0)]
    [InlineData(KdLossKind.TailFwdKl, 0.0)]
    [InlineData(KdLossKind.BwdKl, 1.0)]
    [InlineData(KdLossKind.TailBwdKl, 1.0)]
    [InlineData(KdLossKind.Jsd, 0.5)]
    public void PerToken_Should_Use_Full_Vocabulary_Divergences_With_A_Full_Teacher(KdLossKind kind, double beta)
    {
        using var scope = NewDisposeScope();
        var x = RandomRows(42, N, V);
        var t = RandomRows(43, N, V);
        var tail = kind is KdLossKind.TailFwdKl or KdLossKind.TailBwdKl;
        var o = new KdObjective(kind, SftWeight: 0.5, LogitsScale: 1.1, TargetLogitsScale: tail ? 1 : 0.9, Temperature: tail ? 1 : 2, TSquared: true, Beta: 0.5);
        var terms = KdLoss.PerToken(o, ToTensor(x), tensor(Labels), TeacherSignal.FullLogits(ToTensor(t)));
        var expected = x.Select((r, i) => o.KdFactor * NaiveKd.Full(NaiveKd.Scale(r, o.LogitsScale), NaiveKd.Scale(t[i], o.TargetLogitsScale), beta, o.Temperature)).ToArray();
        AssertAllClose(expected, ToDoubles(terms.Kd), 1e-5, "kd");
    }

    [Fact]
    public void PerToken_With_Teacher_Hidden_States_Should_Equal_Full_Teacher_Logits()
    {
        using var scope = NewDisposeScope();
        var x = ToTensor(RandomRows(44, N, V));
        var hidden = ToTensor(RandomRows(45, N, 6));
        var weight = ToTensor(RandomRows(46, V, 6));
        var o = new KdObjective(KdLossKind.Jsd, Beta: 0.4);
        var fromHidden = KdLoss.PerToken(o, x, tensor(Labels), TeacherSignal.FromHidden(hidden, weight));
        var fromLogits = KdLoss.PerToken(o, x, tensor(Labels), TeacherSignal.FullLogits(hidden.matmul(weight.t())));
        AssertAllClose(ToDoubles(fromLogits.Kd), ToDoubles(fromHidden.Kd), 1e-6, "kd");
    }

    [Fact]
    public void SftOnly_Should_Need_No_Teacher_And_Equal_Cross_Entropy()
    {
        using var scope = NewDisposeScope();
        var x = RandomRows(47, N, V);
        var terms = KdLoss.PerToken(KdObjective.SftOnly, ToTensor(x), tensor(Labels), null);
        AssertAllClose(x.Select((r, i) => NaiveKd.CrossEntropy(r, Labels[i])).ToArray(), ToDoubles(terms.Total), 1e-5, "total");
        Assert.All(ToDoubles(terms.Kd), v => Assert.Equal(0.0, v));
        Assert.Throws<InvalidDataException>(() => KdLoss.PerToken(new KdObjective(), ToTensor(x), tensor(Labels), null));
    }

    [Fact]
    public void Tail_Aware_Kd_Should_Throw_When_The_Teacher_Has_No_LogSumExp()
    {
        using var scope = NewDisposeScope();
        var (ids, t, _) = TopK(RandomRows(48, N, V), K);
        var ex = Assert.Throws<InvalidDataException>(() => KdLoss.PerToken(new KdObjective(KdLossKind.TailFwdKl),
            ToTensor(RandomRows(49, N, V)), tensor(Labels), TeacherSignal.TopK(ToTensor(ids), ToTensor(t))));
        Assert.Contains("logsumexp", ex.Message);
    }

    [Fact]
    public void A_Zero_Weight_Part_Should_Be_Reported_But_Carry_No_Gradient()
    {
        using var scope = NewDisposeScope();
        var (ids, t, _) = TopK(RandomRows(50, N, V), K);
        var teacher = TeacherSignal.TopK(ToTensor(ids), ToTensor(t, ScalarType.Float64));
        var x = ToTensor(RandomRows(51, N, V), ScalarType.Float64, requiresGrad: true);
        var terms = KdLoss.PerToken(new KdObjective(KdWeight: 0.5, SftWeight: 0), x, tensor(Labels), teacher);
        Assert.All(ToDoubles(terms.Sft), v => Assert.True(v > 0));
        terms.Total.sum().backward();
        var viaTotal = ToDoubles(x.grad!);
        var y = x.detach().clone().requires_grad_(true);
        (0.5 * TopKKd.ForwardKl(y, ToTensor(ids), ToTensor(t, ScalarType.Float64))).sum().backward();
        AssertAllClose(ToDoubles(y.grad!), viaTotal, 1e-12, "grad");
    }

    [Fact]
    public void Masked_Normalisation_Should_Ignore_Masked_Rows_Even_When_They_Are_NaN()
    {
        using var scope = NewDisposeScope();
        var loss = tensor(new double[] { 1, 2, double.NaN, 4, 5, 6, 7 });
        var mask = tensor(new byte[] { 1, 1, 0, 1, 0, 1, 1 });
        Assert.Equal(20.0 / 5.0, LossReduction.Normalised(loss, mask, LossReduction.Normaliser(LossReduction.Count(mask, 7))).item<double>(), 12);
        Assert.Equal(1.0, LossReduction.Normaliser(LossReduction.Count(zeros(3, ScalarType.Bool), 3)));
        var weights = tensor(new double[] { 0.5, 1, 0, 2, 0, 0, 0 });
        Assert.Equal(0.5 + 2 + 8, LossReduction.MaskedSum(loss, weights).item<double>(), 12);
    }

    [Fact]
    public void Two_Half_Batches_With_The_Global_Normaliser_Should_Sum_To_The_Full_Batch_Loss_And_Gradient()
    {
        using var scope = NewDisposeScope();
        var (ids, t, lse) = TopK(RandomRows(52, N, V), K);
        var (idsT, tT, lseT) = (ToTensor(ids), ToTensor(t, ScalarType.Float64), tensor(lse));
        var mask = tensor(new double[] { 1, 0, 1, 1, 1, 0, 1 });
        var labels = tensor(Labels);
        var o = new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.4);
        var normaliser = LossReduction.Normaliser(LossReduction.Count(mask, N));
        var rows = RandomRows(53, N, V);

        var full = ToTensor(rows, ScalarType.Float64, requiresGrad: true);
        var fullLoss = LossReduction.Normalised(KdLoss.PerToken(o, full, labels, TeacherSignal.TopK(idsT, tT, lseT)).Total, mask, normaliser);
        fullLoss.backward();

        var halves = ToTensor(rows, ScalarType.Float64, requiresGrad: true);
        double accumulated = 0;
        foreach (var (start, length) in new[] { (0L, 3L), (3L, 4L) })
        {
            var teacher = TeacherSignal.TopK(idsT, tT, lseT).Slice(start, length);
            var terms = KdLoss.PerToken(o, halves.narrow(0, start, length), labels.narrow(0, start, length), teacher);
            var part = LossReduction.Normalised(terms.Total, mask.narrow(0, start, length), normaliser);
            part.backward();
            accumulated += part.item<double>();
        }
        AssertClose(fullLoss.item<double>(), accumulated, 1e-12, "loss");
        AssertAllClose(ToDoubles(full.grad!), ToDoubles(halves.grad!), 1e-12, "grad");
    }
}
