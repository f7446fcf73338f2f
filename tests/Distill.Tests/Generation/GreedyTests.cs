using Distill.Generation;
using Distill.Models;
using Distill.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Generation;

public sealed class GreedyTests
{
    private static readonly int[] Prompt = [5, 17, 3, 42, 8, 29, 11];

    private static LlamaForCausalLM Model(string architecture)
    {
        var json = TinyModels.ConfigJson(architecture);
        json["initializer_range"] = 0.3; // spread logits so greedy choices are not near-ties
        if (architecture == "MistralForCausalLM") json["sliding_window"] = 4; // shorter than the sequences below
        return TinyModels.Create(json, seed: 13);
    }

    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    [InlineData("Qwen2ForCausalLM")]
    public void Cached_Step_Logits_Should_Match_Full_Recomputation(string architecture)
    {
        using var model = Model(architecture);
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var noGrad = no_grad();
        var ids = Prompt.ToList();
        var fed = (IReadOnlyList<int>)Prompt;
        for (var step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            var cached = Greedy.NextLogits(model, cache, fed).data<float>().ToArray();
            var full = NaiveDecoding.FullLastLogits(model, ids);
            for (var v = 0; v < full.Length; v++) Assert.Equal(full[v], cached[v], 1e-5);
            Assert.Equal(ids.Count, cache.Length);
            var next = (step * 13 + 7) % TinyModels.Vocab; // any continuation, not only the greedy one
            ids.Add(next);
            fed = [next];
        }
    }

    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    public void Generate_Should_Equal_Greedy_By_Full_Recomputation(string architecture)
    {
        using var model = Model(architecture);
        var expected = NaiveDecoding.Greedy(model, Prompt, 9);

        var result = Greedy.Generate(model, Prompt, 9, []);

        Assert.Equal(expected, result.Tokens);
        Assert.False(result.StoppedAtEos);
    }

    [Fact]
    public void Generate_Should_Stop_At_The_First_Eos_Id_Without_Emitting_It()
    {
        using var model = Model("LlamaForCausalLM");
        var expected = NaiveDecoding.Greedy(model, Prompt, 9);
        var stop = expected.FindIndex(t => t != expected[0]);
        Assert.True(stop > 0, "the naive continuation should not repeat one token nine times");
        var eos = expected[stop];
        stop = expected.IndexOf(eos);

        var result = Greedy.Generate(model, Prompt, 9, [eos, TinyModels.Vocab + 5]);

        Assert.Equal(expected.Take(stop), result.Tokens);
        Assert.True(result.StoppedAtEos);
    }

    [Fact]
    public void Generate_Should_Make_No_Tokens_When_The_Limit_Is_Zero()
    {
        using var model = Model("LlamaForCausalLM");

        Assert.Empty(Greedy.Generate(model, Prompt, 0, []).Tokens);
    }

    [Fact]
    public void Forward_Should_Reject_A_Padding_Mask_That_Does_Not_Cover_The_Cached_Slots()
    {
        using var model = Model("LlamaForCausalLM");
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var noGrad = no_grad();
        using var prompt = tensor(new long[,] { { 1, 2, 3 } });
        using var next = tensor(new long[,] { { 4 } });
        using var nextOnly = ones_like(next);
        using var scope = NewDisposeScope();
        model.Forward(new CausalLMInput { InputIds = prompt, AttentionMask = ones_like(prompt), Cache = cache });

        var error = Assert.Throws<ArgumentException>(() => model.Forward(new CausalLMInput { InputIds = next, AttentionMask = nextOnly, Cache = cache }));

        Assert.Contains("[1, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_Should_Reject_A_Cache_With_Another_Layer_Count()
    {
        using var model = Model("LlamaForCausalLM");
        using var cache = new KvCache(model.Config.NumHiddenLayers + 1);
        using var ids = tensor(new long[,] { { 1, 2, 3 } });

        var error = Assert.Throws<ArgumentException>(() => model.Forward(new CausalLMInput { InputIds = ids, Cache = cache }));

        Assert.Contains("3 layers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_Generations_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        var json = TinyModels.ConfigJson();
        json["num_hidden_layers"] = 1;
        using var model = TinyModels.Create(json);
        var statistics = DisposeScopeManager.Statistics;
        for (var i = 0; i < 2; i++) Greedy.Generate(model, Prompt, 4, []);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 40; i++) Greedy.Generate(model, Prompt, 4, []);

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void KvCache_Should_Free_Its_Tensors_On_Dispose()
    {
        var statistics = DisposeScopeManager.Statistics;
        using var k = zeros(1, 2, 3, 4);
        using var v = zeros(1, 2, 3, 4);
        var before = statistics.ThreadTotalLiveCount;
        var cache = new KvCache(2);
        cache.Append(0, k, v);
        cache.Append(0, k, v);
        Assert.Equal(0, cache.Length);
        cache.Append(1, k, v);
        Assert.Equal(3, cache.Length);
        Assert.True(statistics.ThreadTotalLiveCount > before, "the cache should hold live tensors");

        cache.Dispose();

        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }
}
