using Distill.Models;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Serving;

/// <summary>Log-probabilities of given tokens: one teacher-forced forward pass, log-softmax in fp32.</summary>
public static class Scoring
{
    /// <summary>
    /// Scores <paramref name="prompt"/> followed by <paramref name="continuation"/>: entry t is log p(token t | tokens
    /// before t) with the <paramref name="topK"/> most likely tokens at t; entry 0 is null (nothing precedes it).
    /// </summary>
    /// <remarks>Cost: one forward pass over T tokens and a [T, V] fp32 log-softmax; two host transfers.</remarks>
    public static TokenLogprob?[] Score(LlamaForCausalLM model, int[] prompt, int[] continuation, int topK)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        var ids = prompt.Concat(continuation).ToArray();
        var scored = new TokenLogprob?[ids.Length];
        if (ids.Length < 2) return scored;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);           // [1, T]
        var logits = model.Forward(new CausalLMInput { InputIds = input }).Logits![0, TensorIndex.Slice(0, -1)]; // [T-1, V] predicts 1..T-1
        var logprobs = logits.to_type(ScalarType.Float32).log_softmax(-1);
        var targets = input[0, TensorIndex.Slice(1)].unsqueeze(-1);                                             // [T-1, 1]
        var chosen = logprobs.gather(-1, targets).squeeze(-1).cpu().data<float>().ToArray();                   // [T-1]
        float[] topValues = [];
        long[] topIds = [];
        var k = (int)Math.Min(topK, logprobs.shape[1]);
        if (k > 0)
        {
            var (values, indices) = TopKRows.Largest(logprobs, k);                                                   // [T-1, k], ties by ascending id
            topValues = values.cpu().data<float>().ToArray();
            topIds = indices.cpu().data<long>().ToArray();
        }
        for (var t = 1; t < ids.Length; t++)
        {
            var top = new (int, float)[k];
            for (var j = 0; j < k; j++) top[j] = ((int)topIds[(t - 1) * k + j], topValues[(t - 1) * k + j]);
            scored[t] = new TokenLogprob(ids[t], chosen[t - 1], top);
        }
        return scored;
    }
}
