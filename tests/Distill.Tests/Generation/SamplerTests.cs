using Distill.Generation;
using Distill.Models;
using Distill.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Generation;

public sealed class SamplerTests
{
    // Different lengths, so a batch of them is left-padded by 0 to 6 slots.
    private static readonly int[][] Prompts = [[5, 17, 3, 42, 8, 29, 11], [9], [33, 4, 58], [12, 12, 40, 7, 21], [60, 1]];

    private static LlamaForCausalLM Model(string architecture = "LlamaForCausalLM", double spread = 0.3)
    {
        var json = TinyModels.ConfigJson(architecture);
        json["initializer_range"] = spread; // 0.3 spreads logits so greedy choices are not near-ties
        if (architecture == "MistralForCausalLM") json["sliding_window"] = 4; // shorter than the sequences below
        return TinyModels.Create(json, seed: 13);
    }

    private static SamplingOptions Sampling(int maxNewTokens = 10, params int[] stopIds) =>
        new() { Temperature = 1.0, TopK = 40, TopP = 0.95, MaxNewTokens = maxNewTokens, StopIds = stopIds };

    private static void AssertSame(GenerationResult[] expected, GenerationResult[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, actual[i].Tokens);
            Assert.Equal(expected[i].StopId, actual[i].StopId);
        }
    }

    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    [InlineData("Qwen2ForCausalLM")]
    public void Padded_Cached_Steps_Should_Give_Each_Row_Its_Unpadded_Logits(string architecture)
    {
        using var model = Model(architecture);
        using var noGrad = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        var longest = Prompts.Max(p => p.Length);
        var rows = Prompts.Select(p => p.ToList()).ToArray();
        var padded = Prompts.SelectMany(p => Enumerable.Repeat(0L, longest - p.Length).Concat(p.Select(i => (long)i))).ToArray();
        var pads = tensor(Prompts.Select(p => (long)(longest - p.Length)).ToArray()).unsqueeze(1); // [B, 1]
        var fed = tensor(padded).view(Prompts.Length, longest);
        for (var step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            var mask = arange(cache.Length + fed.shape[1]).unsqueeze(0).ge(pads).to_type(ScalarType.Int64); // [B, S + T]
            var hidden = model.Forward(new CausalLMInput { InputIds = fed, AttentionMask = mask, Cache = cache }).Logits!; // [B, T, V]
            for (var b = 0; b < Prompts.Length; b++)
            {
                var expected = NaiveDecoding.FullLastLogits(model, rows[b]);
                var actual = hidden[b, -1].data<float>().ToArray();
                for (var v = 0; v < expected.Length; v++) Assert.Equal(expected[v], actual[v], 1e-5);
            }
            var next = Enumerable.Range(0, Prompts.Length).Select(b => (long)((step * 13 + b * 7 + 3) % TinyModels.Vocab)).ToArray();
            for (var b = 0; b < Prompts.Length; b++) rows[b].Add((int)next[b]);
            fed = tensor(next).unsqueeze(1).DetachFromDisposeScope();
        }
    }

    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    public void Greedy_Batch_Should_Equal_Greedy_By_Full_Recomputation_Of_Each_Prompt(string architecture)
    {
        using var model = Model(architecture);

        var batch = Sampler.Sample(model, Prompts, SamplingOptions.Greedy(8, []), null);

        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(NaiveDecoding.Greedy(model, Prompts[i], 8), batch[i].Tokens);
            Assert.Null(batch[i].StopId);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Padded_Batch_Should_Equal_One_Prompt_At_A_Time(double temperature)
    {
        using var model = Model("Qwen2ForCausalLM", spread: 0.1);
        var options = Sampling(12, 2, 3, 4, 5) with { Temperature = temperature };
        var batchRandom = new SamplingRandom(21);
        var singleRandom = new SamplingRandom(21);

        var batch = Sampler.Sample(model, Prompts, options, batchRandom);
        var single = Prompts.Select(p => Sampler.Sample(model, [p], options, singleRandom)[0]).ToArray();

        AssertSame(single, batch);
        Assert.Equal(singleRandom.State, batchRandom.State);
        if (temperature > 0)
        {
            // Rows must leave the batch at different steps, or dropping finished rows went untested.
            Assert.Contains(batch, r => r.StopId is not null);
            Assert.Contains(batch, r => r.StopId is null);
            Assert.True(batch.Select(r => r.Tokens.Length).Distinct().Count() > 2, "completion lengths should differ");
        }
    }

    [Fact]
    public void A_Bf16_Model_Should_Sample_A_Padded_Batch_Of_Valid_Tokens()
    {
        using var model = TinyModels.Create(TinyModels.ConfigJson(), ScalarType.BFloat16);

        var results = Sampler.Sample(model, Prompts, Sampling(6), new SamplingRandom(2));

        Assert.All(results, r => Assert.Equal(6, r.Tokens.Length));
        Assert.All(results.SelectMany(r => r.Tokens), t => Assert.InRange(t, 0, TinyModels.Vocab - 1));
    }

    [Fact]
    public void Low_Temperature_Should_Equal_Greedy()
    {
        using var model = Model();

        var greedy = Sampler.Sample(model, Prompts, SamplingOptions.Greedy(10, []), null);
        var cold = Sampler.Sample(model, Prompts, Sampling(10) with { Temperature = 1e-4, TopK = 0, TopP = 1 }, new SamplingRandom(3));

        AssertSame(greedy, cold);
    }

    [Fact]
    public void The_Same_Seed_Should_Give_The_Same_Samples_And_Another_Seed_Others()
    {
        using var model = Model(spread: 0.05);

        var first = Sampler.Sample(model, Prompts, Sampling(), new SamplingRandom(7));
        var second = Sampler.Sample(model, Prompts, Sampling(), new SamplingRandom(7));
        var other = Sampler.Sample(model, Prompts, Sampling(), new SamplingRandom(8));

        AssertSame(first, second);
        Assert.NotEqual(first.SelectMany(r => r.Tokens), other.SelectMany(r => r.Tokens));
    }

    [Fact]
    public void A_Restored_Random_State_Should_Resume_Sampling_Bit_Identically()
    {
        using var model = Model(spread: 0.05);
        var random = new SamplingRandom(99);
        Sampler.Sample(model, Prompts, Sampling(), random); // a first "step" before the checkpoint
        var saved = random.State;

        var uninterrupted = Sampler.Sample(model, Prompts, Sampling(), random);
        var resumed = SamplingRandom.FromState(saved);
        var afterResume = Sampler.Sample(model, Prompts, Sampling(), resumed);

        AssertSame(uninterrupted, afterResume);
        Assert.Equal(random.State, resumed.State);
        Assert.NotEqual(saved, random.State);
    }

    [Fact]
    public void Sampling_Should_Advance_The_Random_Stream_By_One_Seed_Per_Prompt_Whatever_The_Options()
    {
        using var model = Model();
        var sampled = new SamplingRandom(5);
        var greedy = new SamplingRandom(5);
        var manual = new SamplingRandom(5);

        Sampler.Sample(model, Prompts, Sampling(), sampled);
        Sampler.Sample(model, Prompts, SamplingOptions.Greedy(3, []), greedy);
        for (var i = 0; i < Prompts.Length; i++) manual.NextRowSeed();

        Assert.Equal(manual.State, sampled.State);
        Assert.Equal(manual.State, greedy.State);
    }

    [Fact]
    public void A_Row_Should_Stop_At_Its_First_Stop_Id_Without_Emitting_It_While_Others_Continue()
    {
        using var model = Model();
        var expected = Prompts.Select(p => NaiveDecoding.Greedy(model, p, 9)).ToArray();
        var stop = expected[0].First(t => expected[0].IndexOf(t) > 0); // a token the first row makes after step 0
        var cut = expected[0].IndexOf(stop);

        var results = Sampler.Sample(model, Prompts, SamplingOptions.Greedy(9, [stop, TinyModels.Vocab + 5]), null);

        Assert.Equal(expected[0].Take(cut), results[0].Tokens);
        Assert.Equal(stop, results[0].StopId);
        Assert.True(results[0].StoppedAtEos);
        for (var i = 1; i < Prompts.Length; i++)
        {
            var at = expected[i].IndexOf(stop);
            Assert.Equal(at < 0 ? expected[i] : expected[i].Take(at), results[i].Tokens);
            Assert.Equal(at < 0 ? null : stop, results[i].StopId);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(6)]
    public void Rows_That_Never_Stop_Should_Make_Exactly_Max_New_Tokens(int maxNewTokens)
    {
        using var model = Model();

        var results = Sampler.Sample(model, Prompts, Sampling(maxNewTokens), new SamplingRandom(1));

        Assert.All(results, r => Assert.Equal(maxNewTokens, r.Tokens.Length));
        Assert.All(results, r => Assert.Null(r.StopId));
    }

    [Fact]
    public void No_Prompts_Should_Give_No_Results()
    {
        using var model = Model();

        Assert.Empty(Sampler.Sample(model, [], Sampling(), new SamplingRandom(1)));
    }

    [Theory]
    [InlineData("temperature", -0.5, 1.0, 0, 4)]
    [InlineData("temperature", double.NaN, 1.0, 0, 4)]
    [InlineData("temperature", double.PositiveInfinity, 1.0, 0, 4)]
    [InlineData("top_p", 1.0, 0.0, 0, 4)]
    [InlineData("top_p", 1.0, 1.5, 0, 4)]
    [InlineData("top_p", 1.0, double.NaN, 0, 4)]
    [InlineData("top_k", 1.0, 1.0, -1, 4)]
    [InlineData("max_new_tokens", 1.0, 1.0, 0, -1)]
    public void Bad_Options_Should_Be_Errors_Naming_The_Option(string key, double temperature, double topP, int topK, int maxNewTokens)
    {
        using var model = Model();
        var options = new SamplingOptions { Temperature = temperature, TopP = topP, TopK = topK, MaxNewTokens = maxNewTokens };

        var error = Assert.Throws<ArgumentException>(() => Sampler.Sample(model, Prompts, options, new SamplingRandom(1)));

        Assert.Contains(key + " = ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_Stop_Ids_Prompts_And_A_Missing_Random_Stream_Should_Be_Clear_Errors()
    {
        using var model = Model();

        var stop = Assert.Throws<ArgumentException>(() => Sampler.Sample(model, Prompts, Sampling(4, 2, -1), new SamplingRandom(1)));
        var empty = Assert.Throws<ArgumentException>(() => Sampler.Sample(model, [[1, 2], []], Sampling(), new SamplingRandom(1)));
        var outside = Assert.Throws<ArgumentException>(() => Sampler.Sample(model, [[1, 2], [3, TinyModels.Vocab]], Sampling(), new SamplingRandom(1)));
        var random = Assert.Throws<ArgumentNullException>(() => Sampler.Sample(model, Prompts, Sampling(), null));

        Assert.Contains("stop_ids holds -1", stop.Message, StringComparison.Ordinal);
        Assert.Contains("prompt 1 holds no tokens", empty.Message, StringComparison.Ordinal);
        Assert.Contains($"prompt 1 holds token id {TinyModels.Vocab}", outside.Message, StringComparison.Ordinal);
        Assert.Contains("SamplingRandom", random.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sampling_Should_Leave_A_Training_Model_In_Training_Mode_And_Take_No_Gradients()
    {
        using var model = Model();
        model.train();

        Sampler.Sample(model, Prompts, Sampling(3), new SamplingRandom(1));

        Assert.True(model.training);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null));
    }

    [Fact]
    public void Many_Batched_Samplings_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        var json = TinyModels.ConfigJson();
        json["num_hidden_layers"] = 1;
        using var model = TinyModels.Create(json);
        var random = new SamplingRandom(4);
        var options = Sampling(5, 2, 3, 4, 5, 6, 7, 8);
        var statistics = DisposeScopeManager.Statistics;
        for (var i = 0; i < 2; i++) Sampler.Sample(model, Prompts, options, random);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 30; i++) Sampler.Sample(model, Prompts, options, random);
        for (var i = 0; i < 10; i++) Sampler.Sample(model, Prompts, SamplingOptions.Greedy(5, [2, 3]), null);

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void KvCache_KeepRows_Should_Keep_The_Named_Rows_In_Order_And_Free_The_Rest()
    {
        var statistics = DisposeScopeManager.Statistics;
        using var k = arange(3 * 2 * 4 * 2, dtype: ScalarType.Float32).view(3, 2, 4, 2); // [B=3, KV, S, D]
        using var v = -k;
        using var cache = new KvCache(1);
        using var added = zeros(2, 2, 1, 2);
        cache.Append(0, k, v);
        var live = statistics.ThreadTotalLiveCount;

        cache.KeepRows([2, 0]);
        var (keys, values) = cache.Append(0, added, added);

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
        Assert.Equal(new long[] { 2, 2, 5, 2 }, keys.shape);
        using var scope = NewDisposeScope();
        Assert.True(keys[0, .., ..4].eq(k[2]).all().item<bool>());
        Assert.True(values[1, .., ..4].eq(v[0]).all().item<bool>());
    }
}
