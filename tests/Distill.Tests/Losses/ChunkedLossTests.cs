using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class ChunkedLossTests
{
    private const int N = 7, V = 31, H = 6, K = 5;
    private static readonly long[] Labels = { 3, 0, 30, 7, 7, 19, 2 };
    private static readonly double[] MaskValues = { 1, 1, 0, 1, 1, 0, 1 };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "fwd_kl", "tail_bwd_kl", "jsd_hidden", "sft" })
            foreach (var chunk in new[] { 1, 3, N })
                data.Add(name, chunk);
        return data;
    }

    private static (KdObjective Objective, TeacherSignal? Teacher) Setup(string name) => name switch
    {
        "fwd_kl" => (new KdObjective(KdLossKind.FwdKl, SftWeight: 0.4, Temperature: 2, TSquared: true), TopKTeacher()),
        "tail_bwd_kl" => (new KdObjective(KdLossKind.TailBwdKl, SftWeight: 0.1, LogitsScale: 1.3), TopKTeacher()),
        "jsd_hidden" => (new KdObjective(KdLossKind.Jsd, SftWeight: 0.2, Beta: 0.5),
            TeacherSignal.FromHidden(ToTensor(RandomRows(60, N, 4)), ToTensor(RandomRows(61, V + 1, 4)))),
        _ => (KdObjective.SftOnly, null),
    };

    private static TeacherSignal TopKTeacher()
    {
        var (ids, t, lse) = TopK(RandomRows(62, N, V), K);
        return TeacherSignal.TopK(ToTensor(ids).to_type(ScalarType.Int32), ToTensor(t, ScalarType.BFloat16), tensor(lse).to_type(ScalarType.Float32));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chunked_Should_Equal_Unchunked_In_Value_And_Gradients(string name, int chunkSize)
    {
        using var scope = NewDisposeScope();
        var (objective, teacher) = Setup(name);
        var mask = tensor(MaskValues);
        var targets = new LossTargets(tensor(Labels), mask, teacher);
        var normaliser = LossReduction.Normaliser(LossReduction.Count(mask, N)) + 3;   // as if other micro-batches exist

        var h1 = ToTensor(RandomRows(63, N, H), requiresGrad: true);
        var w1 = ToTensor(RandomRows(64, V, H), requiresGrad: true);
        var terms = KdLoss.PerToken(objective, h1.matmul(w1.t()), targets.Labels, teacher);
        var reference = LossReduction.Normalised(terms.Total, mask, normaliser);
        reference.backward();

        var h2 = ToTensor(RandomRows(63, N, H), requiresGrad: true);
        var w2 = ToTensor(RandomRows(64, V, H), requiresGrad: true);
        var result = ChunkedLoss.Backward(h2, w2, targets, objective, chunkSize, normaliser);
        Assert.Null(h2.grad);                       // nothing reaches h until the caller backprops the returned gradient
        h2.backward(new[] { result.HiddenGrad });

        AssertClose(reference.item<float>(), result.Loss, 1e-5, "loss");
        AssertClose(LossReduction.Normalised(terms.Kd, mask, normaliser).item<float>(), result.Kd, 1e-5, "kd");
        AssertClose(LossReduction.Normalised(terms.Sft, mask, normaliser).item<float>(), result.Sft, 1e-5, "sft");
        AssertAllClose(ToDoubles(h1.grad!), ToDoubles(h2.grad!), 1e-5, "dh");
        AssertAllClose(ToDoubles(w1.grad!), ToDoubles(w2.grad!), 1e-5, "dW");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void Evaluate_Should_Return_Masked_Sums_Equal_To_The_Training_Path(int chunkSize)
    {
        using var scope = NewDisposeScope();
        var (objective, teacher) = Setup("fwd_kl");
        var mask = tensor(MaskValues);
        var targets = new LossTargets(tensor(Labels), mask, teacher);
        var h = ToTensor(RandomRows(65, N, H));
        var w = ToTensor(RandomRows(66, V, H));
        var sums = ChunkedLoss.Evaluate(h, w, targets, objective, chunkSize);
        var trained = ChunkedLoss.Backward(h, w, targets, objective, N, 1.0);
        Assert.Equal(MaskValues.Sum(), sums.Tokens);
        AssertClose(trained.Loss, sums.Total, 1e-5, "total");
        AssertClose(trained.Kd, sums.Kd, 1e-5, "kd");
        AssertClose(trained.Sft, sums.Sft, 1e-5, "sft");
        AssertClose(trained.Loss / MaskValues.Sum(), sums.Mean().Total, 1e-5, "mean");
        Assert.False(h.requires_grad);
    }

    [Fact]
    public void Two_Chunked_Half_Batches_Should_Accumulate_To_The_Full_Batch()
    {
        using var scope = NewDisposeScope();
        var (objective, teacher) = Setup("tail_bwd_kl");
        var mask = tensor(MaskValues);
        var targets = new LossTargets(tensor(Labels), mask, teacher);
        var normaliser = LossReduction.Normaliser(LossReduction.Count(mask, N));

        var h = ToTensor(RandomRows(67, N, H), requiresGrad: true);
        var w = ToTensor(RandomRows(68, V, H), requiresGrad: true);
        var full = ChunkedLoss.Backward(h, w, targets, objective, 2, normaliser);
        var fullGradW = ToDoubles(w.grad!);

        var w2 = ToTensor(RandomRows(68, V, H), requiresGrad: true);
        double accumulated = 0;
        var hiddenGrads = new List<double>();
        foreach (var (start, length) in new[] { (0L, 4L), (4L, 3L) })
        {
            var part = ChunkedLoss.Backward(h.narrow(0, start, length), w2, targets.Slice(start, length), objective, 2, normaliser);
            accumulated += part.Loss;
            hiddenGrads.AddRange(ToDoubles(part.HiddenGrad));
        }
        AssertClose(full.Loss, accumulated, 1e-6, "loss");
        AssertAllClose(ToDoubles(full.HiddenGrad), hiddenGrads.ToArray(), 1e-6, "dh");
        AssertAllClose(fullGradW, ToDoubles(w2.grad!), 1e-6, "dW");
    }

    [Fact]
    public void Chunked_Loss_Should_Work_On_BFloat16_Model_Tensors_And_Return_Gradients_In_Their_Dtype()
    {
        using var scope = NewDisposeScope();
        var (objective, teacher) = Setup("fwd_kl");
        var targets = new LossTargets(tensor(Labels), tensor(MaskValues), teacher);
        var h = ToTensor(RandomRows(69, N, H), ScalarType.BFloat16, requiresGrad: true);
        var w = ToTensor(RandomRows(70, V, H), ScalarType.BFloat16, requiresGrad: true);
        var result = ChunkedLoss.Backward(h, w, targets, objective, 3, 5);
        Assert.Equal(ScalarType.BFloat16, result.HiddenGrad.dtype);
        Assert.Equal(ScalarType.BFloat16, w.grad!.dtype);
        var sums = ChunkedLoss.Evaluate(h.detach(), w.detach(), targets, objective, 3);
        AssertClose(sums.Total / 5, result.Loss, 1e-6, "loss");
        Assert.True(double.IsFinite(result.Loss) && result.Loss > 0);
    }

    [Fact]
    public void An_Empty_Batch_Should_Give_Zero_Loss_And_Zero_Gradient()
    {
        using var scope = NewDisposeScope();
        var targets = new LossTargets(zeros(0, ScalarType.Int64), zeros(0));
        var h = zeros(0, H, requires_grad: true);
        var result = ChunkedLoss.Backward(h, zeros(V, H), targets, KdObjective.SftOnly, 4, LossReduction.Normaliser(0));
        Assert.Equal(0.0, result.Loss);
        Assert.Equal(new long[] { 0, H }, result.HiddenGrad.shape);
        var sums = ChunkedLoss.Evaluate(h.detach(), zeros(V, H), targets, KdObjective.SftOnly, 4);
        Assert.Equal(new LossSums(0, 0, 0, 0), sums.Mean());
    }

    [Fact]
    public void Chunked_Loss_Should_Reject_Bad_Chunk_Size_And_Normaliser()
    {
        using var scope = NewDisposeScope();
        var targets = new LossTargets(tensor(Labels));
        var h = zeros(N, H, requires_grad: true);
        var w = zeros(V, H);
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkedLoss.Backward(h, w, targets, KdObjective.SftOnly, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkedLoss.Backward(h, w, targets, KdObjective.SftOnly, 2, 0));
        Assert.Throws<ArgumentException>(() => ChunkedLoss.Backward(zeros(N, H + 1), w, targets, KdObjective.SftOnly, 2, 1));
    }

    [Fact]
    public void Repeated_Calls_Should_Not_Leak_Tensors()
    {
        var (objective, teacher) = Setup("tail_bwd_kl");
        using var outer = NewDisposeScope();
        var targets = new LossTargets(tensor(Labels), tensor(MaskValues), teacher);
        var h = ToTensor(RandomRows(71, N, H), requiresGrad: true);
        var w = ToTensor(RandomRows(72, V, H), requiresGrad: true);
        long? baseline = null;
        for (var step = 0; step < 6; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var result = ChunkedLoss.Backward(h, w, targets, objective, 3, 5);
                h.backward(new[] { result.HiddenGrad });
                ChunkedLoss.Evaluate(h.detach(), w.detach(), targets, objective, 2);
                KdLoss.PerToken(objective, h.detach().matmul(w.detach().t()), targets.Labels, teacher);
            }
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            if (step == 1) baseline = live;          // step 0 creates the grad buffers of h and W
            if (step > 1) Assert.Equal(baseline, live);
        }
    }
}
