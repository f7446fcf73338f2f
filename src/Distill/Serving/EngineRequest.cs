namespace Distill.Serving;

/// <summary>
/// One request to a <see cref="ServingEngine"/>: <see cref="N"/> continuations of one tokenized prompt, with the
/// OpenAI API's sampling parameters. Validated by <see cref="ServingEngine.SubmitAsync(EngineRequest, CancellationToken)"/>.
/// </summary>
public sealed record EngineRequest
{
    /// <summary>The prompt's token ids, non-empty, within the vocabulary.</summary>
    public required int[] Prompt { get; init; }

    /// <summary>Continuations to make, 1 to <see cref="ServingEngine.MaxN"/>.</summary>
    public int N { get; init; } = 1;

    /// <summary>0 is greedy; OpenAI's range is [0, 2].</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus mass, in (0, 1].</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>New tokens per continuation, ≥ 0; null is what the context has left.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Same seed, same prompt, same parameters: same tokens, batched or not. Null draws a fresh seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Strings that end a continuation (not included in the text); matched on the decoded text.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Null: no log-probabilities. k ≥ 0: each generated token's log-probability and the k most likely
    /// alternatives at its position (k ≤ <see cref="ServingEngine.MaxTopLogprobs"/>).</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>Also score the prompt's own tokens (the completions API's <c>echo</c> with <c>logprobs</c>).</summary>
    public bool ScorePrompt { get; init; }
}

/// <summary>A token's log-probability under the model (its own log-softmax, temperature 1) and the top alternatives.</summary>
/// <param name="Id">The token.</param>
/// <param name="Logprob">log p(token | everything before it).</param>
/// <param name="Top">The k most likely tokens at that position, most likely first (k as requested, possibly 0).</param>
public sealed record TokenLogprob(int Id, float Logprob, IReadOnlyList<(int Id, float Logprob)> Top);

/// <summary>One continuation.</summary>
/// <param name="Tokens">Generated ids (without the stop id; cut after the token that completed a stop string).</param>
/// <param name="Text">Decoded text without special tokens, cut before a stop string.</param>
/// <param name="FinishReason">"stop" (a stop id or string) or "length" (the token limit).</param>
/// <param name="Logprobs">One entry per token of <paramref name="Tokens"/>, or null when not asked for.</param>
public sealed record EngineChoice(int[] Tokens, string Text, string FinishReason, IReadOnlyList<TokenLogprob>? Logprobs);

/// <summary>What a <see cref="ServingEngine"/> returns for one <see cref="EngineRequest"/>.</summary>
/// <param name="Choices">N continuations, in order.</param>
/// <param name="PromptLogprobs">With <see cref="EngineRequest.ScorePrompt"/>: one entry per prompt token, the first null
/// (nothing precedes it); else null.</param>
public sealed record EngineResult(IReadOnlyList<EngineChoice> Choices, IReadOnlyList<TokenLogprob?>? PromptLogprobs);

/// <summary>A request the engine refuses; <see cref="Param"/> names the offending field, <see cref="Code"/> is OpenAI's code.</summary>
public sealed class EngineRequestException(string message, string? param, string? code = null) : ArgumentException(message)
{
    /// <summary>The request field at fault, OpenAI style ("max_tokens", "messages[2].role").</summary>
    public string? Param { get; } = param;

    /// <summary>OpenAI's machine-readable code, e.g. "context_length_exceeded"; may be null.</summary>
    public string? Code { get; } = code;
}
