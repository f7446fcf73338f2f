using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Distill.Text;

namespace Distill.Synthetic;

/// <summary>What a self-instruct run did.</summary>
/// <param name="Requests">Few-shot requests made in this run.</param>
/// <param name="RequestsTotal">Requests made in this run and before.</param>
/// <param name="Accepted">Instructions accepted in this run.</param>
/// <param name="Instructions">Instructions in the pool now (besides the seeds).</param>
/// <param name="Rejected">Candidates dropped in this run (recorded with the reason).</param>
/// <param name="FailedRequests">Requests in this run the teacher could not answer (recorded with the reason).</param>
/// <param name="Responses">The response phase over the grown instructions, as <c>distill generate</c> reports it.</param>
public sealed record SelfInstructSummary(int Requests, int RequestsTotal, int Accepted, int Instructions, int Rejected, int FailedRequests,
    GenerateSummary Responses);

/// <summary>
/// <c>distill generate --self-instruct SEEDS --num N</c>: grows an instruction set from seed tasks as self-instruct and
/// Alpaca did, then has the teacher answer every grown instruction exactly as <see cref="GenerateRunner"/> answers
/// prompts. Growth goes in rounds of <see cref="GenerateOptions.Concurrency"/> requests. Each request shows the teacher a
/// numbered list of tasks drawn from the seeds and from the instructions accepted before its round (the draw seeded by
/// the run's seed and the request's number) and asks it to continue the list; the round's replies are then judged in
/// request order (<see cref="InstructionPool.Judge"/>), so the pool grows the same way whatever order the replies came
/// back in, and, with a seeded teacher, the same way on every run. Accepted instructions go to
/// <see cref="SelfInstructOptions.InstructionsPath"/>, dropped ones with the reason to
/// <see cref="SelfInstructOptions.RejectedPath"/>; a rerun resumes after the last complete round (<see cref="SelfInstructLog"/>).
/// </summary>
public static class SelfInstructRunner
{
    /// <summary>Runs with the teacher <paramref name="options"/> names.</summary>
    public static async Task<SelfInstructSummary> RunAsync(GenerateOptions options, SelfInstructOptions selfInstruct, IProgress<GenerateProgress>? progress,
        CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(selfInstruct);
        options.Validate();
        selfInstruct.Validate();
        using var teacher = await GenerateRunner.OpenTeacher(options, cancel);
        return await RunAsync(options, selfInstruct, teacher, progress, cancel);
    }

    /// <summary>Runs with a given teacher (tests, or callers with a teacher of their own).</summary>
    public static async Task<SelfInstructSummary> RunAsync(GenerateOptions options, SelfInstructOptions selfInstruct, IChatTeacher teacher,
        IProgress<GenerateProgress>? progress, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(selfInstruct);
        ArgumentNullException.ThrowIfNull(teacher);
        options.Validate();
        selfInstruct.Validate();
        var pool = new InstructionPool(InstructionPool.ReadSeeds(selfInstruct.Seeds), selfInstruct);
        int requests, accepted = 0, rejected = 0, failed = 0, startRequests;
        using (var log = SelfInstructLog.Open(options.Output, selfInstruct.Seeds))
        {
            foreach (var task in log.Generated) pool.Add(task);
            startRequests = log.Requests;
            while (pool.Generated.Count < selfInstruct.Num && log.Requests < selfInstruct.RequestLimit)
            {
                var round = Enumerable.Range(log.Requests, Math.Min(options.Concurrency, selfInstruct.RequestLimit - log.Requests)).ToList();
                var visible = pool.Generated.Count; // requests of one round see the same pool, whatever finishes first
                var replies = await Task.WhenAll(round.Select(j => Ask(options, selfInstruct, teacher, pool, visible, j, cancel)));
                if (replies.All(r => r.Failure is not null))
                    throw new InvalidDataException($"self-instruct: every request of the round from request {round[0]} failed, e.g.: {replies[0].Failure}; rerun to try again");
                var (keep, drop) = (new List<JsonObject>(), new List<JsonObject>());
                foreach (var reply in replies) Judge(pool, selfInstruct.Num, reply, keep, drop, ref failed);
                log.AppendRound(keep, drop, round[^1] + 1);
                accepted += keep.Count;
                rejected += drop.Count(d => d["failed"] is null);
            }
            requests = log.Requests;
        }
        var instructions = SelfInstructOptions.InstructionsPath(options.Output);
        var responses = await GenerateRunner.RunAsync(options with { Prompts = instructions }, teacher, PromptFile.Read(instructions), progress, cancel);
        return new SelfInstructSummary(requests - startRequests, requests, accepted, pool.Generated.Count, rejected, failed, responses);
    }

    /// <summary>
    /// The few-shot prompt of request <paramref name="request"/>: up to <see cref="SelfInstructOptions.FromSeeds"/> seed
    /// tasks and <see cref="SelfInstructOptions.FromGenerated"/> of the first <paramref name="visible"/> generated ones,
    /// drawn without replacement and shuffled by SplitMix64 from the run's seed and the request number.
    /// </summary>
    public static (string Prompt, List<InstructionTask> Examples) FewShot(InstructionPool pool, SelfInstructOptions selfInstruct, long? seed, int request,
        int visible)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(selfInstruct);
        var state = (ulong)GenerateRunner.PromptSeed(seed ?? 0, $"self-instruct-examples-{request}");
        var examples = Draw(pool.Seeds, selfInstruct.FromSeeds, ref state);
        examples.AddRange(Draw(pool.Generated.Take(visible).ToList(), selfInstruct.FromGenerated, ref state));
        examples = Draw(examples, examples.Count, ref state);
        var text = new StringBuilder(selfInstruct.Header.Length > 0 ? selfInstruct.Header + "\n\n" : "");
        for (var i = 0; i < examples.Count; i++) text.Append(CultureInfo.InvariantCulture, $"{i + 1}. {examples[i].Text}\n");
        text.Append(CultureInfo.InvariantCulture, $"{examples.Count + 1}.");
        return (text.ToString(), examples);
    }

    private sealed record Reply(int Request, List<InstructionTask> Examples, string? Text, string? Failure);

    private static async Task<Reply> Ask(GenerateOptions o, SelfInstructOptions si, IChatTeacher teacher, InstructionPool pool, int visible,
        int request, CancellationToken cancel)
    {
        var (prompt, examples) = FewShot(pool, si, o.Seed, request, visible);
        var sampling = new TeacherSampling(1, o.Temperature, o.TopP, o.MaxNewTokens, o.Seed is { } s ? GenerateRunner.PromptSeed(s, $"self-instruct-{request}") : null);
        try
        {
            var reply = await teacher.AnswerAsync([new ChatMessage("user", prompt)], sampling, cancel);
            return new Reply(request, examples, reply.Choices[0].Content, null);
        }
        catch (TeacherFailedException e)
        {
            return new Reply(request, examples, null, e.Message);
        }
    }

    // Judges one reply's candidates in order; accepted ones join the pool at once, so a later candidate that repeats an
    // earlier one of the same round is a near-duplicate. Nothing is judged once the pool holds num.
    private static void Judge(InstructionPool pool, int num, Reply reply, List<JsonObject> keep, List<JsonObject> drop, ref int failed)
    {
        if (reply.Failure is not null)
        {
            failed++;
            drop.Add(new JsonObject { ["request"] = reply.Request, ["failed"] = true, ["reason"] = "the teacher could not answer: " + reply.Failure });
            return;
        }
        var candidates = InstructionPool.Candidates(reply.Text!);
        for (var i = 0; i < candidates.Count && pool.Generated.Count < num; i++)
        {
            if (pool.Judge(candidates[i]) is { } reason)
            {
                drop.Add(new JsonObject { ["request"] = reply.Request, ["candidate"] = i, ["reason"] = reason, ["prompt"] = candidates[i] });
                continue;
            }
            var task = new InstructionTask(string.Create(CultureInfo.InvariantCulture, $"si-{reply.Request:D6}-{i}"), candidates[i]);
            pool.Add(task);
            keep.Add(new JsonObject
            {
                ["id"] = task.Id, ["prompt"] = task.Text, ["request"] = reply.Request,
                ["examples"] = new JsonArray([.. reply.Examples.Select(e => (JsonNode)e.Id)]),
            });
        }
    }

    private static List<InstructionTask> Draw(IReadOnlyList<InstructionTask> from, int count, ref ulong state)
    {
        var picked = from.ToList();
        var n = Math.Min(count, picked.Count);
        for (var i = 0; i < n; i++)
        {
            var j = i + (int)(SplitMix64.Next(ref state) % (ulong)(picked.Count - i));
            (picked[i], picked[j]) = (picked[j], picked[i]);
        }
        return picked.Take(n).ToList();
    }
}
