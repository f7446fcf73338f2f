using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public class TopKRowsTests
{
    // The reference: each row sorted on the host by value, descending; OrderByDescending is stable, so equal values
    // keep ascending indices.
    private static void AssertLikeHostSort(Tensor x, int k)
    {
        using var scope = NewDisposeScope();
        var (values, indices) = TopKRows.Largest(x, k);
        long rows = x.shape[0], width = x.shape[1];
        var data = x.to_type(ScalarType.Float32).data<float>().ToArray();
        var gotValues = values.to_type(ScalarType.Float32).data<float>().ToArray();
        var gotIndices = indices.data<long>().ToArray();
        Assert.Equal(new long[] { rows, k }, values.shape);
        Assert.Equal(x.dtype, values.dtype);
        for (var r = 0; r < rows; r++)
        {
            var row = data.AsSpan((int)(r * width), (int)width).ToArray();
            var expected = Enumerable.Range(0, (int)width).OrderByDescending(i => row[i]).Take(k).ToArray();
            Assert.Equal(expected.Select(i => (long)i), gotIndices.AsSpan(r * k, k).ToArray());
            Assert.Equal(expected.Select(i => row[i]), gotValues.AsSpan(r * k, k).ToArray());
        }
    }

    [Theory]
    [InlineData(6, 4096, 100, 1.0)]      // whole blocks
    [InlineData(5, 4103, 100, 1.0)]      // a last block of 7
    [InlineData(5, 4103, 100, 0.25)]     // values rounded to quarters: ties everywhere, across the k boundary too
    [InlineData(4, 1000, 3, 0.5)]
    [InlineData(3, 300, 13, 1.0)]        // at most k blocks: every entry is a candidate
    [InlineData(2, 20, 20, 1.0)]         // k = V, narrower than a block
    public void Largest_Should_Order_Like_A_Stable_Host_Sort(int rows, int width, int k, double step)
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { rows, width }, generator: new Generator((ulong)(width + k))).mul_(4).div_(step).round_().mul_(step);

        AssertLikeHostSort(x, k);
    }

    [Fact]
    public void Largest_Should_Keep_The_Lowest_Indices_Of_A_Tie_That_Spans_Many_Blocks()
    {
        using var scope = NewDisposeScope();
        var x = zeros(3, 2000);
        x[0, 1999] = tensor(1f);                 // one larger value, then 2000 − 1 zeros tie for the other places
        x[1].fill_(-1f);
        x[1, TensorIndex.Slice(640, 700)] = tensor(0f); // the tied maximum inside blocks 20 and 21 only
        x[2, TensorIndex.Slice(0, 10)] = tensor(float.NegativeInfinity);

        AssertLikeHostSort(x, 50);
    }

    [Fact]
    public void Largest_Should_Order_Bf16_Values_Like_Their_Float32_Upcast()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 4, 3000 }, generator: new Generator(7)).mul_(8).to_type(ScalarType.BFloat16);

        AssertLikeHostSort(x, 64);
    }

    [Fact]
    public void Largest_Should_Return_The_Values_Of_Torch_Topk()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 16, 5000 }, generator: new Generator(3));

        var (values, _) = TopKRows.Largest(x, 100);

        Assert.True(values.equal(x.topk(100, dim: 1).values).all().item<bool>());
    }

    [Theory]
    [InlineData(4000, 10)]   // the blocked path: NaN reaches the threshold through its block's maximum
    [InlineData(300, 13)]    // at most k blocks: every entry is a candidate
    public void Largest_Should_Name_The_First_Row_Holding_NaN(int width, int k)
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 4, width }, generator: new Generator(4));
        x[2, width - 7] = tensor(float.NaN);
        x[3, 0] = tensor(float.NaN);

        var error = Assert.Throws<NaNRowException>(() => TopKRows.Largest(x, k));

        Assert.Equal(2, error.Row);
        Assert.Contains("row 2 holds NaN", error.Message);
    }

    [Fact]
    public void Largest_Should_Refuse_K_Outside_The_Row_And_Accept_No_Rows()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => TopKRows.Largest(zeros(2, 10), 11));
        Assert.Throws<ArgumentException>(() => TopKRows.Largest(zeros(2, 10), 0));
        Assert.Throws<ArgumentException>(() => TopKRows.Largest(zeros(10), 1));

        var (values, indices) = TopKRows.Largest(zeros(0, 10), 3);

        Assert.Equal(new long[] { 0, 3 }, values.shape);
        Assert.Equal(new long[] { 0, 3 }, indices.shape);
    }

    [Fact]
    public void Largest_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 8, 4103 }, generator: new Generator(5));
        var statistics = DisposeScopeManager.Statistics;
        TopKRows.Largest(x, 20);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 10; i++)
        {
            using var step = NewDisposeScope();
            TopKRows.Largest(x, 20);
        }

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }
}
