using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Native_Runtime_Loads_And_Computes_A_Gradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1f, 2f, 3f }, requires_grad: true);
        var y = (x * x).sum();
        y.backward();
        Assert.Equal(new float[] { 2f, 4f, 6f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void BFloat16_Matmul_Is_Available()
    {
        using var scope = NewDisposeScope();
        var a = ones(4, 4, dtype: ScalarType.BFloat16);
        Assert.Equal(4f, a.matmul(a)[0, 0].to_type(ScalarType.Float32).item<float>());
    }
}
