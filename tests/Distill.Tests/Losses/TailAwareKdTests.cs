using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class TailAwareKdTests
{
    private const int N = 7, V = 31, K = 5;

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.6)]
    [InlineData(false, 1.7)]
    public void TailAware_Should_Match_Naive_K_Plus_One_Bucket_Values(bool forward, double ls)
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(20, N, V);
        var (ids, t, lse) = TopK(RandomRows(21, N, V), K);
        var loss = TopKKd.TailAware(ToTensor(s), ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32),
            forward ? KlDirection.Forward : KlDirection.Backward, ls);
        var expected = s.Select((r, i) => NaiveKd.Tail(r, ids[i], t[i], lse[i], forward, ls)).ToArray();
        AssertAllClose(expected, ToDoubles(loss), 1e-5, "tail");
    }

    [Theory]
    [InlineData(KlDirection.Forward)]
    [InlineData(KlDirection.Backward)]
    public void TailAware_Gradient_Should_Match_Finite_Differences(KlDirection direction)
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(22, 3, 11);
        var (ids, t, lse) = TopK(RandomRows(23, 3, 11), 4);
        var (idsT, tT, lseT) = (ToTensor(ids), ToTensor(t, ScalarType.Float64), tensor(lse));
        Tensor Loss(Tensor x) => TopKKd.TailAware(x, idsT, tT, lseT, direction, 1.4).sum();
        var x = ToTensor(s, ScalarType.Float64, requiresGrad: true);
        Loss(x).backward();
        var numeric = FiniteDifference(x.detach(), xi => Loss(xi).item<double>());
        AssertAllClose(numeric, ToDoubles(x.grad!), 1e-7, "grad");
    }

    [Fact]
    public void TailAware_Should_Equal_Full_Vocabulary_Forward_Kl_When_K_Covers_The_Vocabulary()
    {
        using var scope = NewDisposeScope();
        var s = RandomRows(24, N, V);
        var teacher = RandomRows(25, N, V);
        var (ids, t, lse) = TopK(teacher, V);
        var loss = TopKKd.TailAware(ToTensor(s), ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32), KlDirection.Forward);
        var expected = s.Select((r, i) => NaiveKd.Full(r, teacher[i], 0, 1)).ToArray();
        Assert.All(ToDoubles(loss), v => Assert.True(double.IsFinite(v)));
        AssertAllClose(expected, ToDoubles(loss), 1e-5, "tail");
    }

    [Fact]
    public void TailAware_Should_Stay_Finite_When_Rest_Mass_Rounds_Below_Zero()
    {
        using var scope = NewDisposeScope();
        // Teacher: all mass on its top-2 and an lse slightly too small, so 1 − Σp < 0; student: all mass on the top-2 too.
        var s = ToTensor(new[] { new[] { 0.0, 0.0, -200, -200, -200 } }, ScalarType.Float64, requiresGrad: true);
        var ids = ToTensor(new[] { new long[] { 0, 1 } });
        var t = tensor(new double[] { 0, 0 }, new long[] { 1, 2 });
        var lse = tensor(new double[] { Math.Log(2) - 1e-6 });
        foreach (var direction in new[] { KlDirection.Forward, KlDirection.Backward })
        {
            var loss = TopKKd.TailAware(s, ids, t, lse, direction);
            loss.sum().backward();
            Assert.True(double.IsFinite(loss.item<double>()), $"{direction} loss");
            Assert.All(ToDoubles(s.grad!), g => Assert.True(double.IsFinite(g), $"{direction} grad"));
        }
    }

    [Fact]
    public void TailAware_Should_Keep_Student_Padded_Rows_In_The_Softmax()
    {
        using var scope = NewDisposeScope();
        var teacher = RandomRows(26, 2, V);
        var (ids, t, lse) = TopK(teacher, K);
        var padded = RandomRows(27, 2, V + 33);                 // student vocabulary padded from 31 to 64 rows
        var loss = TopKKd.TailAware(ToTensor(padded), ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32), KlDirection.Forward);
        var expected = padded.Select((r, i) => NaiveKd.Tail(r, ids[i], t[i], lse[i], true)).ToArray();
        AssertAllClose(expected, ToDoubles(loss), 1e-5, "tail");
    }
}
