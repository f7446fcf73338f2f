using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class ForwardTests
{
    private static Tensor Logits(LlamaForCausalLM model, Tensor ids, Tensor? mask = null) =>
        model.Forward(new CausalLMInput { InputIds = ids, AttentionMask = mask }).Logits!;

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= tolerance, $"max |difference| {difference} > {tolerance}");
    }

    [Fact]
    public void Grouped_Query_Attention_Equals_Multi_Head_With_Repeated_Key_Value_Heads()
    {
        using var scope = NewDisposeScope();
        using var gqa = TinyModels.Create(kvHeads: 2);
        using var mha = TinyModels.Create(kvHeads: 4);
        using (no_grad())
        {
            var source = gqa.state_dict();
            foreach (var (name, target) in mha.state_dict())
            {
                var weight = source[name];
                if (name.Contains("k_proj", StringComparison.Ordinal) || name.Contains("v_proj", StringComparison.Ordinal))
                    weight = weight.view(2, 8, 32).repeat_interleave(2, dim: 0).reshape(32, 32); // query head h reads kv head h / 2
                target.copy_(weight);
            }
        }
        var ids = TinyModels.RandomIds(3, 7);

        AssertClose(Logits(mha, ids), Logits(gqa, ids), 1e-5);
    }

    [Fact]
    public void Logits_At_t_Do_Not_Change_When_Later_Tokens_Change()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create();
        var ids = TinyModels.RandomIds(2, 9);
        var changed = ids.clone();
        changed[TensorIndex.Colon, TensorIndex.Slice(5)] = (changed[TensorIndex.Colon, TensorIndex.Slice(5)] + 17) % TinyModels.Vocab;

        var before = Logits(model, ids);
        var after = Logits(model, changed);

        AssertClose(before[TensorIndex.Colon, TensorIndex.Slice(0, 5)], after[TensorIndex.Colon, TensorIndex.Slice(0, 5)], 0);
        Assert.True((before[TensorIndex.Colon, TensorIndex.Slice(5)] - after[TensorIndex.Colon, TensorIndex.Slice(5)]).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Gradient_Of_Early_Logits_Does_Not_Reach_Embeddings_Of_Later_Tokens()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create();
        var ids = tensor(new long[] { 3, 9, 14, 20, 33, 41, 52 }).unsqueeze(0);

        Logits(model, ids)[0, TensorIndex.Slice(0, 4)].sum().backward();

        var grad = model.state_dict()["model.embed_tokens.weight"].grad!;
        foreach (var early in new long[] { 3, 9, 14, 20 })
            Assert.True(grad[early].abs().sum().item<float>() > 0, $"token {early}");
        foreach (var late in new long[] { 33, 41, 52 })
            Assert.Equal(0f, grad[late].abs().sum().item<float>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Padded_Batch_Equals_One_Example_At_A_Time_At_Real_Positions(bool leftPadding)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create("Qwen2ForCausalLM");
        long[] lengths = [7, 4, 1];
        var rows = lengths.Select((n, i) => TinyModels.RandomIds(1, n, seed: 40 + i)).ToArray();
        var ids = zeros(3, 7, dtype: ScalarType.Int64);
        var mask = zeros(3, 7, dtype: ScalarType.Int64);
        for (var i = 0; i < 3; i++)
        {
            var slice = leftPadding ? TensorIndex.Slice(7 - lengths[i]) : TensorIndex.Slice(0, lengths[i]);
            ids[i, slice] = rows[i][0];
            mask[i, slice] = 1;
        }

        var batched = Logits(model, ids, mask);

        Assert.False(batched.isnan().any().item<bool>());
        for (var i = 0; i < 3; i++)
        {
            var slice = leftPadding ? TensorIndex.Slice(7 - lengths[i]) : TensorIndex.Slice(0, lengths[i]);
            AssertClose(Logits(model, rows[i])[0], batched[i, slice], 1e-5);
        }
    }

    [Fact]
    public void Hidden_States_Follow_Hugging_Face_Embeddings_Then_Layers_Then_Final_Norm()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create(tied: true);
        var ids = TinyModels.RandomIds(2, 5);

        var output = model.Forward(new CausalLMInput { InputIds = ids, OutputHiddenStates = true });

        Assert.Equal(3, output.HiddenStates!.Count);
        AssertClose(model.LmHeadWeight.index_select(0, ids.flatten()).view(2, 5, 32), output.HiddenStates[0], 0);
        Assert.Same(output.LastHiddenState, output.HiddenStates[2]);
        AssertClose(output.LastHiddenState.matmul(model.LmHeadWeight.t()), output.Logits!, 1e-5);
    }

    [Fact]
    public void Without_Logits_Returns_The_Final_Normed_Hidden_States_For_Chunked_Projection()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create();
        var ids = TinyModels.RandomIds(2, 5);

        var full = model.Forward(new CausalLMInput { InputIds = ids });
        var hiddenOnly = model.Forward(new CausalLMInput { InputIds = ids, ComputeLogits = false });

        Assert.Null(hiddenOnly.Logits);
        Assert.Null(hiddenOnly.HiddenStates);
        var chunks = hiddenOnly.LastHiddenState.split(3, dim: 1).Select(c => nn.functional.linear(c, model.LmHeadWeight)).ToArray();
        AssertClose(full.Logits!, cat(chunks, 1), 1e-6);
    }

    [Fact]
    public void Bf16_Model_Tracks_The_Fp32_Model()
    {
        using var scope = NewDisposeScope();
        using var fp32 = TinyModels.Create();
        using var bf16 = TinyModels.Create(dtype: ScalarType.BFloat16);
        using (no_grad())
            foreach (var (name, target) in bf16.state_dict()) target.copy_(fp32.state_dict()[name]);
        var ids = TinyModels.RandomIds(2, 6);

        var low = Logits(bf16, ids);

        Assert.Equal(ScalarType.BFloat16, low.dtype);
        AssertClose(Logits(fp32, ids), low.to_type(ScalarType.Float32), 0.05);
    }

    [Fact]
    public void Sliding_Window_Mask_Lets_Each_Query_See_Only_The_Last_W_Keys()
    {
        using var scope = NewDisposeScope();
        var mask = AttentionMasks.Build(null, 5, 3, CPU)!;

        bool[,] expected =
        {
            { true, false, false, false, false },
            { true, true, false, false, false },
            { true, true, true, false, false },
            { false, true, true, true, false },
            { false, false, true, true, true },
        };
        for (var q = 0; q < 5; q++)
            for (var k = 0; k < 5; k++)
                Assert.Equal(expected[q, k], mask[0, 0, q, k].item<bool>());
        Assert.Null(AttentionMasks.Build(null, 3, 3, CPU));
    }

    [Fact]
    public void Position_Ids_Count_Real_Tokens_From_Zero_With_Left_Padding()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new long[,] { { 0, 0, 1, 1, 1 }, { 1, 1, 1, 0, 0 } });

        var positions = AttentionMasks.PositionIds(mask, 2, 5, CPU);

        Assert.Equal(new long[] { 1, 1, 0, 1, 2, 0, 1, 2, 1, 1 }, positions.data<long>().ToArray());
    }

    [Fact]
    public void Out_Of_Vocabulary_Ids_Are_Rejected_Before_Compute()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create();
        var ids = tensor(new long[] { 1, TinyModels.Vocab }).unsqueeze(0);

        var error = Assert.Throws<ArgumentException>(() => Logits(model, ids));
        Assert.Contains("61", error.Message);
    }
}
