using Distill.LogitCache;
using Distill.Models;
using Distill.Teachers;
using Distill.Text.Conversations;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Teachers;

public class TopKTeacherTests
{
    private static TokenizedExample Example(int length, int seed, params int[] targets)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(0, length).Select(_ => random.Next(TinyTeacher.Vocab)).ToArray();
        var mask = new byte[length];
        foreach (var j in targets) mask[j] = 1;
        return new TokenizedExample(ids, mask, "test", seed, false);
    }

    // The reference: the full [1, T, V] logits of a plain forward pass, one row sorted in double precision.
    private static (int[] Ids, double[] Shifted, double LogSumExp) Reference(LlamaForCausalLM model, int[] ids, int position, int k)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length });
        var logits = model.Forward(new CausalLMInput { InputIds = input }).Logits!.to(ScalarType.Float32);
        var row = logits[0, position].data<float>().ToArray().Select(v => (double)v).ToArray();
        var max = row.Max();
        var order = Enumerable.Range(0, row.Length).OrderByDescending(v => row[v]).ToArray();
        var lse = Math.Log(row.Sum(v => Math.Exp(v - max)));
        return (order[..k], order[..k].Select(v => row[v] - max).ToArray(), lse);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(31)]
    public void Rows_Should_Equal_A_Full_Sort_Of_The_Full_Logits(int k)
    {
        using var model = TinyTeacher.Create();
        var example = Example(13, 1, 1, 2, 5, 6, 7, 12);
        var teacher = new TopKTeacher(model, k, chunkElements: 3 * TinyTeacher.Vocab); // chunks of 3 rows: 6 rows take two

        var row = teacher.ComputeBatch([example])[0];

        Assert.Equal(6, row.Rows);
        var r = 0;
        foreach (var j in new[] { 1, 2, 5, 6, 7, 12 })
        {
            var (ids, shifted, lse) = Reference(model, example.InputIds, j - 1, k);
            Assert.Equal(ids, row.TopKIds[(r * k)..((r + 1) * k)]);
            for (var c = 0; c < k; c++) Assert.Equal(shifted[c], row.TopKLogits[r * k + c], 1e-4);
            Assert.Equal(lse, row.LogSumExp[r], 1e-4);
            r++;
        }
        Assert.Equal(example.InputIds, row.InputIds);
        Assert.Equal(example.LossMask, row.LossMask);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Rows_Should_Equal_Upcast_Max_Subtract_Sort_And_Logsumexp_Bit_For_Bit(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var hidden = randn(new long[] { 11, 16 }, generator: generator).to_type(dtype);
        var weight = randn(new long[] { 3000, 16 }, generator: generator).to_type(dtype);
        foreach (var copy in new[] { 7, 900, 2999 }) weight[copy].copy_(weight[3]);  // tied logits in three blocks apart

        var (ids, values, lse) = TopKTeacher.Rows(hidden, weight, 40, chunkRows: 4);

        // The straightforward formula: the logits widened to fp32, the row max subtracted, each row sorted on the host
        // (OrderByDescending is stable: equal values by ascending id), logsumexp.
        var wide = nn.functional.linear(hidden, weight).to(ScalarType.Float32);
        var shifted = wide - wide.max(1, keepdim: true).values;
        var rows = shifted.data<float>().ToArray();
        var expected = Enumerable.Range(0, 11).SelectMany(r => Enumerable.Range(0, 3000).OrderByDescending(v => rows[r * 3000 + v]).Take(40)).Select(v => (long)v);
        Assert.Equal(expected, ids.data<long>().ToArray());
        Assert.True(shifted.gather(1, ids).equal(values).all().item<bool>(), "values");
        Assert.True(shifted.logsumexp(1).equal(lse).all().item<bool>(), "logsumexp");
    }

    [Fact]
    public void Rows_Should_Be_Descending_With_Column_Zero_Exactly_Zero_In_Bf16_Compute()
    {
        using var model = TinyTeacher.Create(ScalarType.BFloat16);
        var teacher = new TopKTeacher(model, 7);

        var row = teacher.ComputeBatch([Example(9, 2, 3, 4, 8)])[0];

        for (var r = 0; r < row.Rows; r++)
        {
            Assert.Equal(0f, row.TopKLogits[r * 7]);
            for (var c = 1; c < 7; c++) Assert.True(row.TopKLogits[r * 7 + c] <= row.TopKLogits[r * 7 + c - 1]);
            Assert.True(row.LogSumExp[r] >= 0f);
        }
    }

    [Fact]
    public void A_Teacher_Giving_NaN_Should_Be_Refused_Naming_The_Example_And_Position()
    {
        using var model = TinyTeacher.Create();
        using (no_grad()) model.LmHeadWeight[5].fill_(float.NaN);                    // every position's logit of token 5
        var teacher = new TopKTeacher(model, 4);

        // The first example has no target, so the first supervised row is the second example's target 5.
        var error = Assert.Throws<InvalidDataException>(() => teacher.ComputeBatch([Example(7, 3), Example(9, 4, 5, 6)]));

        Assert.Contains("test:4: the teacher's logits at token position 4 (predicting token 5) hold NaN", error.Message);
    }

    [Fact]
    public void Batching_With_Padding_Should_Not_Change_Any_Row()
    {
        using var model = TinyTeacher.Create();
        var teacher = new TopKTeacher(model, 5);
        TokenizedExample[] examples =
        [
            Example(7, 3, 1, 6), Example(3, 4, 2), Example(31, 5, 1, 2, 3, 17, 30), Example(5, 6, 4), Example(12, 7, 5, 6, 11),
            Example(3, 8), // no supervised target: no rows
        ];

        var batched = teacher.Compute(examples, batchTokens: 40); // 31 alone, then [12, 7, 5] padded to 12, then [3, 3]
        var single = examples.Select(e => teacher.ComputeBatch([e])[0]).ToArray();

        for (var i = 0; i < examples.Length; i++)
        {
            Assert.Equal(single[i].InputIds, batched[i].InputIds);
            Assert.Equal(single[i].TopKIds, batched[i].TopKIds);
            for (var c = 0; c < single[i].TopKLogits.Length; c++) Assert.Equal(single[i].TopKLogits[c], batched[i].TopKLogits[c], 1e-5);
            for (var r = 0; r < single[i].Rows; r++) Assert.Equal(single[i].LogSumExp[r], batched[i].LogSumExp[r], 1e-5);
        }
        Assert.Equal(0, batched[5].Rows);
    }

    [Fact]
    public void ComputeBatch_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        using var model = TinyTeacher.Create();
        var teacher = new TopKTeacher(model, 5, chunkElements: 2 * TinyTeacher.Vocab);
        TokenizedExample[] batch = [Example(7, 3, 1, 6), Example(11, 4, 2, 3, 9)];
        var statistics = DisposeScopeManager.Statistics;
        teacher.ComputeBatch(batch);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 20; i++) teacher.ComputeBatch(batch);

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Constructor_Should_Refuse_K_Beyond_The_Vocabulary()
    {
        using var model = TinyTeacher.Create();

        var e = Assert.Throws<ArgumentException>(() => new TopKTeacher(model, TinyTeacher.Vocab + 1));

        Assert.Contains("top_k", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_Should_Sort_Longest_First_And_Keep_Padded_Batches_Within_The_Budget()
    {
        int[] lengths = [3, 9, 5, 9, 2, 30, 7];

        var batches = LengthBatches.Plan(lengths, batchTokens: 20);

        Assert.Equal([[5], [1, 3], [6, 2], [0, 4]], batches);
        Assert.Equal(Enumerable.Range(0, lengths.Length), batches.SelectMany(b => b).Order());
    }
}
