using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Distill.Serving;
using Distill.Tensors;

namespace Distill.Synthetic;

/// <summary>What a <c>distill generate</c> run did.</summary>
/// <param name="Done">Prompts answered in this run.</param>
/// <param name="Failed">Prompts that failed in this run (recorded in the failures file).</param>
/// <param name="Skipped">Prompts already in the output.</param>
/// <param name="FailedEarlier">Prompts that failed in an earlier run and were not retried (see <see cref="GenerateOptions.RetryFailed"/>).</param>
/// <param name="Rejected">Responses the filters rejected in this run (recorded in the rejections file).</param>
/// <param name="CompletionTokens">Tokens generated in this run, where the teacher reports them.</param>
/// <param name="Seconds">Wall time of the generation.</param>
public sealed record GenerateSummary(int Done, int Failed, int Skipped, int FailedEarlier, int Rejected, long CompletionTokens, double Seconds);

/// <summary>Progress of a run, reported after each prompt.</summary>
public sealed record GenerateProgress(int Finished, int ToDo, int InFlight, long Retries, long CompletionTokens, TimeSpan Elapsed);

/// <summary>
/// <c>distill generate</c> without the printing: reads the prompts, skips those the output already holds, and has the
/// teacher answer the rest with at most <see cref="GenerateOptions.Concurrency"/> in flight, appending each prompt's
/// responses as soon as they arrive (in completion order) as Hugging Face <c>messages</c> lines that <c>distill
/// train</c> reads as they are.
/// </summary>
public static class GenerateRunner
{
    /// <summary>Runs with the teacher <paramref name="options"/> names.</summary>
    public static async Task<GenerateSummary> RunAsync(GenerateOptions options, IProgress<GenerateProgress>? progress, CancellationToken cancel)
    {
        options.Validate();
        var prompts = PromptFile.Read(options.Prompts);
        using var teacher = await OpenTeacher(options, cancel);
        return await RunAsync(options, teacher, prompts, progress, cancel);
    }

    /// <summary>Runs with a given teacher (tests, or callers with a teacher of their own).</summary>
    public static async Task<GenerateSummary> RunAsync(GenerateOptions options, IChatTeacher teacher, IReadOnlyList<GenerationPrompt> prompts,
        IProgress<GenerateProgress>? progress, CancellationToken cancel)
    {
        options.Validate();
        using var output = GenerationOutput.Open(options.Output, options.FailedPath, options.RejectedPath);
        using var cache = options.Logprobs is null ? null : GeneratedCache.Open(options);
        var accept = options.Accept is null ? null : new Regex(options.Accept);
        var skipped = prompts.Count(p => output.Done.Contains(p.Id));
        var failedEarlier = options.RetryFailed ? 0 : prompts.Count(p => output.FailedEarlier.ContainsKey(p.Id));
        var todo = prompts.Where(p => !output.Done.Contains(p.Id) && (options.RetryFailed || !output.FailedEarlier.ContainsKey(p.Id))).ToList();
        int done = 0, failed = 0, inFlight = 0, rejected = 0;
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancel },
            async (prompt, token) =>
            {
                Interlocked.Increment(ref inFlight);
                var sampling = new TeacherSampling(options.N, options.Temperature, options.TopP, options.MaxNewTokens,
                    options.Seed is { } seed ? PromptSeed(seed, prompt.Id) : null, options.Logprobs);
                try
                {
                    var reply = await teacher.AnswerAsync(prompt.Messages, sampling, token);
                    var verdicts = Filter(options, accept, reply.Choices);
                    var refused = verdicts.Select((reason, i) => (i, reply.Choices[i].Content, reason)).Where(v => v.reason is not null).ToList();
                    var kept = verdicts.Count(v => v is null);
                    if (refused.Count > 0) output.AppendRejected(prompt.Id, refused.Select(r => (r.i, r.Content, r.reason!)).ToList(), allRejected: kept == 0);
                    if (kept > 0) cache?.Append(prompt.Id, reply, verdicts, teacher.Name);
                    if (kept > 0) output.Append(Lines(prompt, reply, verdicts, teacher.Name, sampling));
                    Interlocked.Add(ref rejected, refused.Count);
                    Interlocked.Increment(ref done);
                    Interlocked.Add(ref tokens, reply.CompletionTokens ?? 0);
                }
                catch (TeacherFailedException e)
                {
                    output.AppendFailure(prompt.Id, e.Message, e.Attempts);
                    Interlocked.Increment(ref failed);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
                progress?.Report(new GenerateProgress(Volatile.Read(ref done) + Volatile.Read(ref failed), todo.Count, Volatile.Read(ref inFlight),
                    (teacher as RemoteChatTeacher)?.Retries ?? 0, Interlocked.Read(ref tokens), clock.Elapsed));
            });
        cache?.Build(teacher.Name);
        return new GenerateSummary(done, failed, skipped, failedEarlier, rejected, tokens, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A prompt's seed: the run's seed mixed with a hash of the prompt id, so it does not depend on order or resumption.</summary>
    public static long PromptSeed(long seed, string id)
    {
        var hash = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(id)), 0);
        var state = unchecked((ulong)(seed ^ hash));
        return (long)(SplitMix64.Next(ref state) >> 1); // non-negative, as servers expect
    }

    internal static async Task<IChatTeacher> OpenTeacher(GenerateOptions options, CancellationToken cancel)
    {
        if (options.TeacherUrl is not null) return await RemoteChatTeacher.ConnectAsync(options, cancel);
        var engine = ServingEngine.Load(options.Teacher!, Devices.Parse(options.Device), Devices.ParseComputeDType(options.DType), options.ChatFormat,
            options: new EngineOptions(MaxBatchRows: Math.Max(options.Concurrency * options.N, 1)));
        return new LocalChatTeacher(engine);
    }

    // Why each response is rejected, or null when it is kept: length bounds, the --accept pattern, an exact duplicate
    // of an earlier response to the same prompt.
    private static List<string?> Filter(GenerateOptions o, Regex? accept, IReadOnlyList<TeacherChoice> choices)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var verdicts = new List<string?>();
        for (var i = 0; i < choices.Count; i++)
        {
            var text = choices[i].Content;
            string? reason = null;
            if (o.MinChars is { } min && text.Length < min) reason = $"{text.Length} characters, fewer than --min-chars {min}";
            else if (o.MaxChars is { } max && text.Length > max) reason = $"{text.Length} characters, more than --max-chars {max}";
            else if (accept is not null && !accept.IsMatch(text)) reason = "does not match --accept";
            else if (seen.TryGetValue(text, out var first)) reason = $"duplicate of response {first}";
            else seen[text] = i;
            verdicts.Add(reason);
        }
        return verdicts;
    }

    private static List<JsonObject> Lines(GenerationPrompt prompt, TeacherReply reply, List<string?> verdicts, string teacher, TeacherSampling sampling)
    {
        var lines = new List<JsonObject>();
        var groupSize = verdicts.Count(v => v is null);
        for (var i = 0; i < reply.Choices.Count; i++)
        {
            if (verdicts[i] is not null) continue;
            var choice = reply.Choices[i];
            var messages = new JsonArray();
            foreach (var m in prompt.Messages) messages.Add(new JsonObject { ["role"] = m.Role, ["content"] = m.Content });
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = choice.Content });
            var usage = new JsonObject { ["prompt_tokens"] = reply.PromptTokens, ["completion_tokens"] = choice.CompletionTokens };
            if (choice.CompletionTokens is null && reply.CompletionTokens is { } total) usage["request_completion_tokens"] = total;
            lines.Add(new JsonObject
            {
                ["messages"] = messages,
                ["prompt_id"] = prompt.Id,
                ["choice"] = i,
                ["group_size"] = groupSize,
                ["teacher"] = teacher,
                ["sampling"] = new JsonObject
                {
                    ["n"] = sampling.N, ["temperature"] = sampling.Temperature, ["top_p"] = sampling.TopP,
                    ["max_tokens"] = sampling.MaxTokens, ["seed"] = sampling.Seed,
                },
                ["finish_reason"] = choice.FinishReason,
                ["usage"] = usage,
                ["attempts"] = reply.Attempts,
            });
        }
        return lines;
    }
}
