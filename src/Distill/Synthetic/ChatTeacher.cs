using Distill.Serving;
using Distill.Text;

namespace Distill.Synthetic;

/// <summary>How a teacher samples each prompt's responses.</summary>
/// <param name="N">Responses.</param>
/// <param name="Temperature">Sampling temperature, 0 greedy.</param>
/// <param name="TopP">Nucleus mass.</param>
/// <param name="MaxTokens">Token limit per response.</param>
/// <param name="Seed">This prompt's seed (derived from the run's seed and the prompt id), or null.</param>
/// <param name="TopLogprobs">Also return each generated token's log-probability and the K most likely tokens there (K ≤ 20), or null.</param>
public sealed record TeacherSampling(int N, double Temperature, double TopP, int MaxTokens, long? Seed, int? TopLogprobs = null);

/// <summary>One response.</summary>
/// <param name="Content">The response text.</param>
/// <param name="FinishReason">"stop", "length", or what the server said.</param>
/// <param name="CompletionTokens">Its token count, or null when the server reports only the total over n responses.</param>
/// <param name="Logprobs">With <see cref="TeacherSampling.TopLogprobs"/>: one entry per generated token, else null.</param>
public sealed record TeacherChoice(string Content, string FinishReason, int? CompletionTokens, IReadOnlyList<ServedLogprob>? Logprobs = null);

/// <summary>A token as a server names it in log-probabilities (text, <c>token_id:N</c>, or bytes), its log-probability, and the
/// most likely tokens at its position (empty for the entries of that list).</summary>
public sealed record ServedLogprob(string Token, byte[]? Bytes, double Logprob, IReadOnlyList<ServedLogprob> Top);

/// <summary>A prompt's responses.</summary>
/// <param name="Choices">The n responses.</param>
/// <param name="PromptTokens">The prompt's token count, when known.</param>
/// <param name="CompletionTokens">Tokens of all n responses together, when known.</param>
/// <param name="Attempts">Requests it took (1 without retries).</param>
public sealed record TeacherReply(IReadOnlyList<TeacherChoice> Choices, int? PromptTokens, int? CompletionTokens, int Attempts);

/// <summary>A prompt the teacher could not answer, after every retry allowed.</summary>
public sealed class TeacherFailedException(string reason, int attempts) : Exception(reason)
{
    /// <summary>Requests made.</summary>
    public int Attempts { get; } = attempts;
}

/// <summary>A teacher that answers chat prompts: a local model (<see cref="LocalChatTeacher"/>) or a server (<see cref="RemoteChatTeacher"/>).</summary>
public interface IChatTeacher : IDisposable
{
    /// <summary>The teacher's name, written on every output line.</summary>
    string Name { get; }

    /// <summary>Answers one prompt; safe to call concurrently.</summary>
    /// <exception cref="TeacherFailedException">The prompt cannot be answered (its reason is recorded).</exception>
    Task<TeacherReply> AnswerAsync(IReadOnlyList<ChatMessage> messages, TeacherSampling sampling, CancellationToken cancel);
}

/// <summary>
/// A local model folder as teacher, through a <see cref="ServingEngine"/>: concurrent prompts are batched into one
/// sampler call with the KV cache, exactly as <c>distill serve</c> does, without HTTP in between.
/// </summary>
public sealed class LocalChatTeacher(ServingEngine engine) : IChatTeacher
{
    /// <inheritdoc />
    public string Name => engine.ModelName;

    /// <inheritdoc />
    public async Task<TeacherReply> AnswerAsync(IReadOnlyList<ChatMessage> messages, TeacherSampling sampling, CancellationToken cancel)
    {
        int[] prompt;
        try
        {
            prompt = engine.Chat.Encode(engine.Chat.Render(messages, addGenerationPrompt: true)).Ids;
        }
        catch (InvalidDataException e)
        {
            throw new TeacherFailedException(e.Message, 0);
        }
        var left = engine.Model.Config.MaxPositionEmbeddings - prompt.Length;
        if (left < 1) throw new TeacherFailedException($"the prompt has {prompt.Length} tokens; the teacher's context is {engine.Model.Config.MaxPositionEmbeddings}", 1);
        var request = new EngineRequest
        {
            Prompt = prompt, N = sampling.N, Temperature = sampling.Temperature, TopP = sampling.TopP,
            MaxTokens = Math.Min(sampling.MaxTokens, left), Seed = sampling.Seed, TopLogprobs = sampling.TopLogprobs,
        };
        EngineResult result;
        try
        {
            result = await engine.SubmitAsync(request, cancel);
        }
        catch (EngineRequestException e)
        {
            throw new TeacherFailedException(e.Message, 1);
        }
        var choices = result.Choices.Select(c => new TeacherChoice(c.Text, c.FinishReason, c.Tokens.Length, c.Logprobs?.Select(Named).ToList())).ToList();
        return new TeacherReply(choices, prompt.Length, choices.Sum(c => c.CompletionTokens), 1);
    }

    // The engine's log-probabilities (its model's log-softmax) with tokens named by id, as a server asked for token ids names them.
    private static ServedLogprob Named(TokenLogprob t) =>
        new($"token_id:{t.Id}", null, t.Logprob, [.. t.Top.Select(a => new ServedLogprob($"token_id:{a.Id}", null, a.Logprob, []))]);

    /// <summary>Disposes the engine (and its model).</summary>
    public void Dispose() => engine.Dispose();
}
