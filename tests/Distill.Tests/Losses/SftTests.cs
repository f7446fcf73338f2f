using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class SftTests
{
    private const int N = 7, V = 31;

    [Fact]
    public void CrossEntropy_Should_Match_Naive_Per_Token_Values()
    {
        using var scope = NewDisposeScope();
        var rows = RandomRows(1, N, V);
        var labels = new long[] { 0, 30, 5, 7, 12, 3, 29 };
        var ce = Sft.CrossEntropy(ToTensor(rows), tensor(labels));
        var expected = rows.Select((r, i) => NaiveKd.CrossEntropy(r, labels[i])).ToArray();
        AssertAllClose(expected, ToDoubles(ce), 1e-5, "ce");
    }

    [Fact]
    public void CrossEntropy_Should_Give_Zero_For_Ignored_Labels()
    {
        using var scope = NewDisposeScope();
        var ce = ToDoubles(Sft.CrossEntropy(ToTensor(RandomRows(2, 3, V)), tensor(new long[] { -100, 4, -1 })));
        Assert.Equal(0.0, ce[0]);
        Assert.True(ce[1] > 0);
        Assert.Equal(0.0, ce[2]);
    }

    [Fact]
    public void CrossEntropy_Should_Compute_In_Fp32_For_BFloat16_Logits()
    {
        using var scope = NewDisposeScope();
        var rows = RandomRows(3, N, V);
        var bf16 = ToTensor(rows, ScalarType.BFloat16);
        var labels = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7 });
        var ce = Sft.CrossEntropy(bf16, labels);
        Assert.Equal(ScalarType.Float32, ce.dtype);
        var rounded = ToDoubles(bf16).Chunk(V).ToArray();
        var expected = rounded.Select((r, i) => NaiveKd.CrossEntropy(r, i + 1)).ToArray();
        AssertAllClose(expected, ToDoubles(ce), 1e-5, "ce");
    }

    [Fact]
    public void CrossEntropy_Gradient_Should_Be_Softmax_Minus_OneHot()
    {
        using var scope = NewDisposeScope();
        var rows = RandomRows(4, 3, V);
        var x = ToTensor(rows, ScalarType.Float64, requiresGrad: true);
        var labels = new long[] { 2, 0, 30 };
        Sft.CrossEntropy(x, tensor(labels)).sum().backward();
        var expected = rows.SelectMany((r, i) => NaiveKd.Softmax(r).Select((p, v) => p - (v == labels[i] ? 1 : 0))).ToArray();
        AssertAllClose(expected, ToDoubles(x.grad!), 1e-12, "grad");
    }

    [Fact]
    public void CrossEntropy_Should_Throw_When_Label_Is_Outside_Vocabulary()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<InvalidDataException>(() => Sft.CrossEntropy(ToTensor(RandomRows(5, 2, V)), tensor(new long[] { 1, 31 })));
        Assert.Contains("labels", ex.Message);
    }
}
