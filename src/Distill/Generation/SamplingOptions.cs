namespace Distill.Generation;

/// <summary>
/// How <see cref="Sampler"/> picks each next token: logits / <see cref="Temperature"/>, then the top-k filter, then
/// the top-p filter, then one draw from the softmax of what is left (Hugging Face's and vLLM's order). Defaults are
/// plain sampling at temperature 1 with TRL GKD's 128 new tokens.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits, ≥ 0; 0 is greedy decoding (argmax, no random draw). Below 1 sharpens, above 1 flattens.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling, in (0, 1]: keep the smallest set of most likely tokens whose probability reaches
    /// <c>top_p</c>; 1 keeps all.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Keep the <c>top_k</c> most likely tokens (ties at the k-th logit kept), ≥ 0; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>At most this many new tokens per prompt, ≥ 0 (a stop id counts as none: it is not emitted).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Ids that end a completion (end of sequence, end of turn); the stop id itself is not emitted. Ids
    /// outside the vocabulary are allowed and never produced.</summary>
    public IReadOnlyCollection<int> StopIds { get; init; } = [];

    /// <summary>Greedy decoding (temperature 0) of at most <paramref name="maxNewTokens"/> tokens.</summary>
    public static SamplingOptions Greedy(int maxNewTokens, IReadOnlyCollection<int> stopIds) =>
        new() { Temperature = 0, MaxNewTokens = maxNewTokens, StopIds = stopIds };

    /// <summary>True when every step takes the argmax and needs no random numbers.</summary>
    public bool IsGreedy => Temperature == 0;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (!(Temperature >= 0 && double.IsFinite(Temperature)))
            throw new ArgumentException($"sampling: temperature = {Temperature} must be a finite number ≥ 0 (0 is greedy)");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"sampling: top_p = {TopP} must be in (0, 1] (1 turns it off)");
        if (TopK < 0)
            throw new ArgumentException($"sampling: top_k = {TopK} must be ≥ 0 (0 turns it off)");
        if (MaxNewTokens < 0)
            throw new ArgumentException($"sampling: max_new_tokens = {MaxNewTokens} must be ≥ 0");
        if (StopIds is null)
            throw new ArgumentException("sampling: stop_ids must not be null (use an empty list)");
        foreach (var id in StopIds)
            if (id < 0) throw new ArgumentException($"sampling: stop_ids holds {id}; token ids are ≥ 0");
    }
}
