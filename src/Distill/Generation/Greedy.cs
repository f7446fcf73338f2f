using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Generation;

/// <summary>Greedy decoding with a <see cref="KvCache"/>: one forward pass over the prompt, then one per new token.</summary>
public static class Greedy
{
    /// <summary>
    /// Continues <paramref name="prompt"/> with the most likely token at each step until one of <paramref name="eosIds"/>
    /// is produced or <paramref name="maxNewTokens"/> tokens are made.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty or holds ids outside the vocabulary.</exception>
    public static GenerationResult Generate(LlamaForCausalLM model, IReadOnlyList<int> prompt, int maxNewTokens, IReadOnlyCollection<int> eosIds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (prompt.Count == 0) throw new ArgumentException("the prompt holds no tokens", nameof(prompt));
        var tokens = new List<int>();
        if (maxNewTokens == 0) return new GenerationResult([], false);
        using var noGrad = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        var next = Step(model, cache, prompt);
        while (true)
        {
            if (eosIds.Contains(next)) return new GenerationResult([.. tokens], true);
            tokens.Add(next);
            if (tokens.Count == maxNewTokens) return new GenerationResult([.. tokens], false);
            next = Step(model, cache, [next]);
        }
    }

    /// <summary>
    /// Runs <paramref name="ids"/> after what <paramref name="cache"/> holds and returns the last position's logits
    /// [V] as fp32, in the caller's dispose scope.
    /// </summary>
    public static Tensor NextLogits(LlamaForCausalLM model, KvCache cache, IReadOnlyList<int> ids)
    {
        using var scope = NewDisposeScope();
        var input = tensor(ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0); // [1, T]
        var hidden = model.Forward(new CausalLMInput { InputIds = input, ComputeLogits = false, Cache = cache }).LastHiddenState;
        var last = hidden[0, -1];                                                                  // [H]
        // Only the last position's logits are needed: one [V] row instead of [T, V] for the prompt.
        return nn.functional.linear(last, model.LmHeadWeight).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private static int Step(LlamaForCausalLM model, KvCache cache, IReadOnlyList<int> ids)
    {
        using var scope = NewDisposeScope();
        return (int)NextLogits(model, cache, ids).argmax().item<long>();
    }
}
