using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Generation;

/// <summary>Greedy decoding of one prompt: <see cref="Sampler"/> at temperature 0.</summary>
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
        return Sampler.Sample(model, [prompt.ToArray()], SamplingOptions.Greedy(maxNewTokens, eosIds), random: null)[0];
    }

    /// <summary>
    /// Runs <paramref name="ids"/> after what <paramref name="cache"/> holds and returns the last position's logits
    /// [V] as fp32, in the caller's dispose scope.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty or holds ids outside the vocabulary.</exception>
    public static Tensor NextLogits(LlamaForCausalLM model, KvCache cache, IReadOnlyList<int> ids)
    {
        if (ids.Count == 0 || ids.Any(i => i < 0 || i >= model.Config.VocabSize))
            throw new ArgumentException($"ids must be 1 or more token ids in [0, {model.Config.VocabSize})", nameof(ids));
        using var scope = NewDisposeScope();
        var input = tensor(ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0); // [1, T]
        return Sampler.LastLogits(model, cache, input, null)[0].MoveToOuterDisposeScope();
    }
}
