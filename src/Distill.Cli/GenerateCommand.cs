using System.CommandLine;
using System.Globalization;
using Distill.Synthetic;

namespace Distill.Cli;

/// <summary><c>distill generate</c>: a teacher (local folder or OpenAI-compatible server) answers prompts into training JSONL.</summary>
public static class GenerateCommand
{
    /// <summary>The <c>generate</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var o = new RecordOptions<GenerateOptions>(new GenerateOptions { Prompts = "", Output = "" });
        o.Add(new Option<DirectoryInfo?>("--teacher") { Description = "Hugging Face folder of a local teacher model" }, (r, v) => r with { Teacher = v?.FullName });
        o.Add(new Option<string?>("--teacher-url") { Description = "OpenAI-compatible server, e.g. http://host:8000/v1 (vLLM, SGLang, TGI, OpenAI, distill serve)" },
            (r, v) => r with { TeacherUrl = v });
        o.Add(new Option<string?>("--model") { Description = "Model id on the server (default: the first of its /v1/models)" }, (r, v) => r with { Model = v });
        var prompts = o.Add(new Option<FileInfo?>("--prompts") { Description = "Prompts, JSONL: messages, NeMo, prompt-completion or {\"prompt\": ...} lines (or --self-instruct)" },
            (r, v) => r with { Prompts = v!.FullName });
        o.Add(new Option<FileInfo>("--out") { Description = "Output JSONL of messages lines (appended; a rerun resumes it)", Required = true }, (r, v) => r with { Output = v.FullName });
        o.Add(new Option<int>("--n") { Description = "Responses per prompt" }, (r, v) => r with { N = v }, r => r.N);
        o.Add(new Option<double>("--gen-temperature") { Description = "Sampling temperature (0: greedy)" }, (r, v) => r with { Temperature = v }, r => r.Temperature);
        o.Add(new Option<double>("--gen-top-p") { Description = "Nucleus sampling mass" }, (r, v) => r with { TopP = v }, r => r.TopP);
        o.Add(new Option<int>("--max-new-tokens") { Description = "Token limit per response" }, (r, v) => r with { MaxNewTokens = v }, r => r.MaxNewTokens);
        o.Add(new Option<long?>("--seed") { Description = "Base seed; each prompt's seed derives from it and the prompt id" }, (r, v) => r with { Seed = v });
        o.Add(new Option<int>("--concurrency") { Description = "Prompts in flight at once" }, (r, v) => r with { Concurrency = v }, r => r.Concurrency);
        o.Add(new Option<string>("--api-key-env") { Description = "Environment variable holding the API key" }, (r, v) => r with { ApiKeyEnv = v }, r => r.ApiKeyEnv);
        o.Add(new Option<bool>("--retry-failed") { Description = "Retry prompts that failed in an earlier run" }, (r, v) => r with { RetryFailed = v });
        o.Add(new Option<double>("--timeout") { Description = "Seconds per request before it is retried" }, (r, v) => r with { TimeoutSeconds = v }, r => r.TimeoutSeconds);
        o.Add(new Option<int>("--max-attempts") { Description = "Requests per prompt before it is recorded as failed" }, (r, v) => r with { MaxAttempts = v }, r => r.MaxAttempts);
        o.Add(new Option<int?>("--min-chars") { Description = "Reject responses shorter than this many characters" }, (r, v) => r with { MinChars = v });
        o.Add(new Option<int?>("--max-chars") { Description = "Reject responses longer than this many characters" }, (r, v) => r with { MaxChars = v });
        o.Add(new Option<string?>("--accept") { Description = "Reject responses this regular expression does not match (e.g. 'The answer is -?[0-9]+')" },
            (r, v) => r with { Accept = v });
        o.Add(CommonOptions.ChatFormat("Local teacher: built-in chat template instead of the model's"), (r, v) => r with { ChatFormat = v });
        o.Add(CommonOptions.Device("Local teacher: "), (r, v) => r with { Device = v! }, r => r.Device);
        o.Add(CommonOptions.DType("Local teacher: compute dtype"), (r, v) => r with { DType = v! }, r => r.DType);
        o.Add(new Option<int?>("--logprobs") { Description = "Also write the teacher's top-K log-probabilities of every generated token (K ≤ 20) as a logit cache beside --out (OUT.cache), for distill train --data with KD" },
            (r, v) => r with { Logprobs = v });
        o.Add(new Option<DirectoryInfo?>("--tokenizer") { Description = "With --logprobs: the (student's) folder whose tokenizer and chat template the cache uses (default: the local teacher's; needed with --teacher-url)" },
            (r, v) => r with { Tokenizer = v?.FullName });
        o.Add(new Option<bool>("--server-token-ids") { Description = "With --logprobs and --teacher-url: ask the server to name tokens by id (vLLM's return_tokens_as_token_ids; not OpenAI)" },
            (r, v) => r with { ServerTokenIds = v });
        var command = new Command("generate", "Have a teacher answer prompts (KD through generated data): a local model or an OpenAI-compatible server");
        o.AddTo(command);
        var selfInstruct = new Option<FileInfo?>("--self-instruct") { Description = "Instead of --prompts: grow --num instructions from these seed tasks (JSONL) as self-instruct/Alpaca did, then answer them" };
        var num = new Option<int?>("--num") { Description = "With --self-instruct: instructions to grow" };
        var header = new Option<string?>("--instruction-header") { Description = "With --self-instruct: the request's text before the numbered examples (say what tasks you want; \"\" for the list alone)" };
        command.Options.Add(selfInstruct);
        command.Options.Add(num);
        command.Options.Add(header);
        command.SetAction((result, cancel) => Task.FromResult(CliErrors.Run(result, "distill generate", () =>
        {
            var options = o.Bind(result);
            if (result.GetValue(prompts) is null) options = options with { Prompts = SelfInstructOptions.InstructionsPath(options.Output) };
            var writer = result.InvocationConfiguration.Output;
            GenerateSummary summary;
            try
            {
                var progress = Terminal.Lines<GenerateProgress>(writer, Line, _ => false);
                summary = result.GetValue(selfInstruct) is { } seeds
                    ? SelfInstruct(options, seeds, result.GetValue(num), result.GetValue(header), result.GetValue(prompts), writer, progress, cancel)
                    : result.GetValue(prompts) is null ? throw new ArgumentException("give --prompts F.jsonl, or --self-instruct SEEDS.jsonl --num N")
                    : GenerateRunner.RunAsync(options, progress, cancel).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                result.InvocationConfiguration.Error.WriteLine(
                    $"distill generate: interrupted; every answered prompt is in {options.Output}; rerun the same command to continue");
                return 130;
            }
            ResolvedSettings.Write(ResolvedSettings.GeneratePath(options), options);
            writer.WriteLine(Summary(summary, options));
            if (options.Logprobs is not null) writer.WriteLine($"distill generate: top-{options.Logprobs} log-probabilities of every generated token: logit cache {options.CachePath}");
            if (summary.Failed + summary.FailedEarlier == 0) return 0;
            result.InvocationConfiguration.Error.WriteLine($"distill generate: failed prompts are listed with their reasons in {options.FailedPath}; rerun with --retry-failed to try them again");
            return 1;
        })));
        return command;
    }

    private static GenerateSummary SelfInstruct(GenerateOptions options, FileInfo seeds, int? num, string? header, FileInfo? prompts, TextWriter writer,
        IProgress<GenerateProgress> progress, CancellationToken cancel)
    {
        if (prompts is not null) throw new ArgumentException("give one of --prompts and --self-instruct (self-instruct answers the instructions it grows)");
        var selfInstruct = new SelfInstructOptions { Seeds = seeds.FullName, Num = num ?? throw new ArgumentException("--self-instruct needs --num N, the instructions to grow") };
        if (header is not null) selfInstruct = selfInstruct with { Header = header };
        var s = SelfInstructRunner.RunAsync(options, selfInstruct, progress, cancel).GetAwaiter().GetResult();
        var failed = s.FailedRequests > 0 ? $", {s.FailedRequests} requests the teacher could not answer" : "";
        var shortOf = s.Instructions < selfInstruct.Num ? $"; stopped at the limit of {selfInstruct.RequestLimit} requests, short of --num {selfInstruct.Num}" : "";
        writer.WriteLine($"distill generate --self-instruct: {s.Instructions} instructions in {SelfInstructOptions.InstructionsPath(options.Output)} "
            + $"({s.Accepted} new from {s.Requests} requests; {s.Rejected} candidates dropped, see {SelfInstructOptions.RejectedPath(options.Output)}{failed}){shortOf}");
        return s.Responses;
    }

    private static string Summary(GenerateSummary s, GenerateOptions o)
    {
        var rate = s.Seconds > 0 && s.CompletionTokens > 0 ? string.Create(CultureInfo.InvariantCulture, $", {s.CompletionTokens / s.Seconds:0} tok/s") : "";
        var earlier = s.FailedEarlier > 0 ? $", {s.FailedEarlier} failed earlier (not retried)" : "";
        earlier += s.Rejected > 0 ? $"; {s.Rejected} responses rejected by the filters (see {o.RejectedPath})" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"distill generate: {s.Done} done, {s.Failed} failed, {s.Skipped} skipped (already in {o.Output}){earlier}; {s.CompletionTokens} tokens in {s.Seconds:0.0} s{rate}");
    }

    // None at the end: the summary follows.
    private static string? Line(GenerateProgress p)
    {
        if (p.Finished == p.ToDo) return null;
        var rate = p.CompletionTokens / Math.Max(p.Elapsed.TotalSeconds, 1e-9);
        var eta = p.Finished > 0 ? TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.Finished * (p.ToDo - p.Finished)) : (TimeSpan?)null;
        return string.Create(CultureInfo.InvariantCulture,
            $"generate: {p.Finished}/{p.ToDo} prompts, {p.InFlight} in flight, {p.Retries} retries, {rate:0} tok/s{(eta is { } e ? $", ETA {e:hh\\:mm\\:ss}" : "")}");
    }
}
