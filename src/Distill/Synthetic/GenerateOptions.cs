namespace Distill.Synthetic;

/// <summary>
/// Everything <c>distill generate</c> needs: a teacher (a local folder or an OpenAI-compatible server), prompts,
/// the output file, sampling parameters, and how hard to try a remote server.
/// </summary>
public sealed record GenerateOptions
{
    /// <summary>Local teacher: a Hugging Face model folder. Exactly one of this and <see cref="TeacherUrl"/>.</summary>
    public string? Teacher { get; init; }

    /// <summary>Remote teacher: the server's base URL, with or without the trailing <c>/v1</c>.</summary>
    public string? TeacherUrl { get; init; }

    /// <summary>The remote model id; null asks the server's <c>/v1/models</c> and takes the first.</summary>
    public string? Model { get; init; }

    /// <summary>
    /// <c>--logprobs K</c>: also keep the teacher's top-K log-probabilities of every generated token (K ≤ 20) and write them as
    /// a logit cache beside the output (<see cref="CachePath"/>), for <c>distill train --data</c> with KD.
    /// </summary>
    public int? Logprobs { get; init; }

    /// <summary>With <see cref="Logprobs"/>: the (student's) folder whose tokenizer and chat template the cache is made with;
    /// null uses the local teacher's.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>With <see cref="Logprobs"/> and a server: ask it to name tokens by id (vLLM's and distill serve's
    /// <c>return_tokens_as_token_ids</c>; OpenAI refuses it), for tokens whose text and bytes name no single token, such as
    /// vocabulary padding a model may still put in its top-K.</summary>
    public bool ServerTokenIds { get; init; }

    /// <summary>The logit cache <see cref="Logprobs"/> writes: the output's name with ".cache".</summary>
    public string CachePath => Path.ChangeExtension(Output, ".cache");

    /// <summary>The side file of generated tokens and their top log-probabilities the cache is built from.</summary>
    public string LogprobsPath => Path.ChangeExtension(Output, ".logprobs.jsonl");

    /// <summary>Prompts, JSONL: any conversation layout <c>distill train</c> reads, or <c>{"prompt": ...}</c>.</summary>
    public required string Prompts { get; init; }

    /// <summary>Output JSONL (appended; a rerun resumes it). Failures go to <see cref="FailedPath"/> beside it.</summary>
    public required string Output { get; init; }

    /// <summary>Responses per prompt.</summary>
    public int N { get; init; } = 1;

    /// <summary>Sampling temperature, 0 greedy.</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Nucleus mass.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Token limit per response.</summary>
    public int MaxNewTokens { get; init; } = 512;

    /// <summary>Base seed; each prompt's seed is derived from it and the prompt id, so reruns and any order agree. Null: unseeded.</summary>
    public long? Seed { get; init; }

    /// <summary>Prompts in flight at once (requests to a server, or rows the local engine may batch together).</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Retry prompts that failed in an earlier run (otherwise they are skipped and counted).</summary>
    public bool RetryFailed { get; init; }

    /// <summary>Environment variable holding the API key (sent as a bearer token, written nowhere).</summary>
    public string ApiKeyEnv { get; init; } = "OPENAI_API_KEY";

    /// <summary>Seconds one request may take before it is abandoned and retried.</summary>
    public double TimeoutSeconds { get; init; } = 600;

    /// <summary>Attempts per prompt before it is recorded as failed (retries on 429, 5xx, timeouts, resets, malformed replies).</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>First retry delay; doubles per attempt, with jitter, up to <see cref="MaxBackoffSeconds"/>.</summary>
    public double BackoffSeconds { get; init; } = 1;

    /// <summary>Longest wait between attempts, also the cap on a server's Retry-After.</summary>
    public double MaxBackoffSeconds { get; init; } = 60;

    /// <summary>Filter: responses shorter than this many characters are rejected.</summary>
    public int? MinChars { get; init; }

    /// <summary>Filter: responses longer than this many characters are rejected.</summary>
    public int? MaxChars { get; init; }

    /// <summary>Filter: responses the regular expression does not match anywhere are rejected (e.g. a final-answer format).</summary>
    public string? Accept { get; init; }

    /// <summary>Local teacher: built-in chat template instead of the model's own.</summary>
    public string? ChatFormat { get; init; }

    /// <summary>Local teacher: device.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Local teacher: compute dtype.</summary>
    public string DType { get; init; } = "fp32";

    /// <summary>Where failed prompts are recorded: the output's name with <c>.failed.jsonl</c>.</summary>
    public string FailedPath => Path.ChangeExtension(Output, ".failed.jsonl");

    /// <summary>Where rejected responses are recorded with the reason: the output's name with <c>.rejected.jsonl</c>.</summary>
    public string RejectedPath => Path.ChangeExtension(Output, ".rejected.jsonl");

    /// <summary>Checks the options; the message names the flag.</summary>
    public void Validate()
    {
        if ((Teacher is null) == (TeacherUrl is null)) throw new ArgumentException("give exactly one of --teacher DIR and --teacher-url URL");
        if (TeacherUrl is not null && !(Uri.TryCreate(TeacherUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            throw new ArgumentException($"--teacher-url '{TeacherUrl}' must be an http(s) URL");
        if (N < 1) throw new ArgumentException($"--n {N} must be ≥ 1");
        if (Logprobs is < 1 or > 20) throw new ArgumentException($"--logprobs {Logprobs} must be in [1, 20]: OpenAI returns at most 20 top log-probabilities per token (vLLM's default limit too)");
        if (Logprobs is not null && Teacher is null && Tokenizer is null)
            throw new ArgumentException("--logprobs with --teacher-url needs --tokenizer DIR: the (student's) folder whose tokenizer the server's tokens are mapped to");
        if (!(Temperature is >= 0 and <= 2)) throw new ArgumentException($"--gen-temperature {Temperature} must be in [0, 2]");
        if (!(TopP is > 0 and <= 1)) throw new ArgumentException($"--gen-top-p {TopP} must be in (0, 1]");
        if (MaxNewTokens < 1) throw new ArgumentException($"--max-new-tokens {MaxNewTokens} must be ≥ 1");
        if (Concurrency < 1) throw new ArgumentException($"--concurrency {Concurrency} must be ≥ 1");
        if (MaxAttempts < 1) throw new ArgumentException($"--max-attempts {MaxAttempts} must be ≥ 1");
        if (!(TimeoutSeconds > 0)) throw new ArgumentException($"--timeout {TimeoutSeconds} must be > 0 seconds");
        if (!(BackoffSeconds >= 0 && MaxBackoffSeconds >= BackoffSeconds)) throw new ArgumentException("backoff: need 0 ≤ first delay ≤ longest delay");
        if (MinChars < 0 || MaxChars < 0 || MinChars > MaxChars) throw new ArgumentException($"need 0 ≤ --min-chars {MinChars} ≤ --max-chars {MaxChars}");
        if (Accept is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(Accept);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--accept '{Accept}' is not a regular expression: {e.Message}", e);
            }
        }
        if (string.IsNullOrWhiteSpace(ApiKeyEnv)) throw new ArgumentException("--api-key-env must name an environment variable");
    }
}
