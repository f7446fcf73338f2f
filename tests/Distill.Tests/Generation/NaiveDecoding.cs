using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Generation;

/// <summary>The independent reference of the decoding tests: full forward passes over the whole sequence, no cache, no padding.</summary>
internal static class NaiveDecoding
{
    /// <summary>[V] last-position logits of a full forward pass over <paramref name="ids"/>.</summary>
    public static float[] FullLastLogits(LlamaForCausalLM model, IReadOnlyList<int> ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        return model.Forward(new CausalLMInput { InputIds = input }).Logits![0, -1].data<float>().ToArray();
    }

    /// <summary><paramref name="steps"/> greedy tokens after <paramref name="prompt"/>, each from a fresh full pass.</summary>
    public static List<int> Greedy(LlamaForCausalLM model, IReadOnlyList<int> prompt, int steps)
    {
        var ids = prompt.ToList();
        var generated = new List<int>();
        for (var i = 0; i < steps; i++)
        {
            var logits = FullLastLogits(model, ids);
            var next = Array.IndexOf(logits, logits.Max());
            generated.Add(next);
            ids.Add(next);
        }
        return generated;
    }
}
