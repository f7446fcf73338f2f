using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Serving;

/// <summary>
/// An independent reference for scoring: one plain forward pass of a single unpadded row with the model's own logits,
/// log-softmax in fp32, then gather and top-k; no packing, no chunks.
/// </summary>
internal static class PlainScoring
{
    /// <summary>Per position t ≥ 1 (index t − 1): log p(ids[t]), the top-k ids and their log-probabilities.</summary>
    public static (float[] Chosen, long[][] TopIds, float[][] TopValues) Score(LlamaForCausalLM model, int[] ids, int k)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length }, ScalarType.Int64);
        var logits = model.Forward(new CausalLMInput { InputIds = input }).Logits!;
        var logprobs = logits[0].to_type(ScalarType.Float32).log_softmax(-1);                       // [T, V]
        var chosen = new float[ids.Length - 1];
        var topIds = new long[ids.Length - 1][];
        var topValues = new float[ids.Length - 1][];
        for (var t = 1; t < ids.Length; t++)
        {
            var row = logprobs[t - 1];
            chosen[t - 1] = row[ids[t]].item<float>();
            var (values, indices) = row.topk(Math.Max(k, 1));
            topIds[t - 1] = indices.data<long>().Take(k).ToArray();
            topValues[t - 1] = values.data<float>().Take(k).ToArray();
        }
        return (chosen, topIds, topValues);
    }

    /// <summary>
    /// Asserts that <paramref name="scored"/>, whose entry i is position <paramref name="from"/> + i of
    /// <paramref name="ids"/> (and null for position 0), equals the reference to <paramref name="tolerance"/>.
    /// </summary>
    public static void AssertEqual(LlamaForCausalLM model, int[] ids, int k, IReadOnlyList<Distill.Serving.TokenLogprob?> scored, int from = 0,
        float tolerance = 1e-5f)
    {
        var (chosen, topIds, topValues) = Score(model, ids, k);
        Assert.Equal(ids.Length - from, scored.Count);
        if (from == 0) Assert.Null(scored[0]);
        for (var t = Math.Max(from, 1); t < ids.Length; t++)
        {
            var s = scored[t - from]!;
            Assert.Equal(ids[t], s.Id);
            Assert.True(Math.Abs(chosen[t - 1] - s.Logprob) <= tolerance, $"position {t}: {s.Logprob} vs {chosen[t - 1]} alone");
            Assert.Equal(topIds[t - 1].Select(i => (int)i), s.Top.Select(p => p.Id));
            for (var j = 0; j < k; j++)
                Assert.True(Math.Abs(topValues[t - 1][j] - s.Top[j].Logprob) <= tolerance, $"position {t}, top {j}");
        }
    }
}
