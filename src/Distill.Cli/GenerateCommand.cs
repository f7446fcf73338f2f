using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Distill.Synthetic;

namespace Distill.Cli;

/// <summary><c>distill generate</c>: a teacher (local folder or OpenAI-compatible server) answers prompts into training JSONL.</summary>
public static class GenerateCommand
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    /// <summary>The <c>generate</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var teacher = new Option<DirectoryInfo?>("--teacher") { Description = "Hugging Face folder of a local teacher model" };
        var teacherUrl = new Option<string?>("--teacher-url") { Description = "OpenAI-compatible server, e.g. http://host:8000/v1 (vLLM, SGLang, TGI, OpenAI, distill serve)" };
        var model = new Option<string?>("--model") { Description = "Model id on the server (default: the first of its /v1/models)" };
        var prompts = new Option<FileInfo?>("--prompts") { Description = "Prompts, JSONL: messages, NeMo, prompt-completion or {\"prompt\": ...} lines (or --self-instruct)" };
        var output = new Option<FileInfo>("--out") { Description = "Output JSONL of messages lines (appended; a rerun resumes it)", Required = true };
        var n = new Option<int>("--n") { Description = "Responses per prompt", DefaultValueFactory = _ => 1 };
        var temperature = new Option<double>("--gen-temperature") { Description = "Sampling temperature (0: greedy)", DefaultValueFactory = _ => 0.7 };
        var topP = new Option<double>("--gen-top-p") { Description = "Nucleus sampling mass", DefaultValueFactory = _ => 1.0 };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Token limit per response", DefaultValueFactory = _ => 512 };
        var seed = new Option<long?>("--seed") { Description = "Base seed; each prompt's seed derives from it and the prompt id" };
        var concurrency = new Option<int>("--concurrency") { Description = "Prompts in flight at once", DefaultValueFactory = _ => 8 };
        var apiKeyEnv = new Option<string>("--api-key-env") { Description = "Environment variable holding the API key", DefaultValueFactory = _ => "OPENAI_API_KEY" };
        var retryFailed = new Option<bool>("--retry-failed") { Description = "Retry prompts that failed in an earlier run" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds per request before it is retried", DefaultValueFactory = _ => 600 };
        var maxAttempts = new Option<int>("--max-attempts") { Description = "Requests per prompt before it is recorded as failed", DefaultValueFactory = _ => 6 };
        var minChars = new Option<int?>("--min-chars") { Description = "Reject responses shorter than this many characters" };
        var maxChars = new Option<int?>("--max-chars") { Description = "Reject responses longer than this many characters" };
        var accept = new Option<string?>("--accept") { Description = "Reject responses this regular expression does not match (e.g. 'The answer is -?[0-9]+')" };
        var chatFormat = new Option<string?>("--chat-format") { Description = "Local teacher: built-in chat template instead of the model's: chatml, llama3, llama2, mistral, zephyr" };
        var device = new Option<string>("--device") { Description = "Local teacher: cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Local teacher: compute dtype", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var logprobs = new Option<int?>("--logprobs") { Description = "Also write the teacher's top-K log-probabilities of every generated token (K ≤ 20) as a logit cache beside --out (OUT.cache), for distill train --data with KD" };
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "With --logprobs: the (student's) folder whose tokenizer and chat template the cache uses (default: the local teacher's; needed with --teacher-url)" };
        var command = new Command("generate", "Have a teacher answer prompts (KD through generated data): a local model or an OpenAI-compatible server")
        {
            teacher, teacherUrl, model, prompts, output, n, temperature, topP, maxNewTokens, seed, concurrency, apiKeyEnv, retryFailed,
            timeout, maxAttempts, minChars, maxChars, accept, chatFormat, device, dtype,
        };
        command.Options.Add(logprobs);
        command.Options.Add(tokenizer);
        var serverTokenIds = new Option<bool>("--server-token-ids") { Description = "With --logprobs and --teacher-url: ask the server to name tokens by id (vLLM's return_tokens_as_token_ids; not OpenAI)" };
        command.Options.Add(serverTokenIds);
        var selfInstruct = new Option<FileInfo?>("--self-instruct") { Description = "Instead of --prompts: grow --num instructions from these seed tasks (JSONL) as self-instruct/Alpaca did, then answer them" };
        var num = new Option<int?>("--num") { Description = "With --self-instruct: instructions to grow" };
        var header = new Option<string?>("--instruction-header") { Description = "With --self-instruct: the request's text before the numbered examples (say what tasks you want; \"\" for the list alone)" };
        command.Options.Add(selfInstruct);
        command.Options.Add(num);
        command.Options.Add(header);
        command.SetAction((result, cancel) => Task.FromResult(CliErrors.Run(result, "distill generate", () =>
        {
            var options = new GenerateOptions
            {
                Teacher = result.GetValue(teacher)?.FullName,
                TeacherUrl = result.GetValue(teacherUrl),
                Model = result.GetValue(model),
                Prompts = result.GetValue(prompts)?.FullName ?? SelfInstructOptions.InstructionsPath(result.GetValue(output)!.FullName),
                Output = result.GetValue(output)!.FullName,
                N = result.GetValue(n),
                Temperature = result.GetValue(temperature),
                TopP = result.GetValue(topP),
                MaxNewTokens = result.GetValue(maxNewTokens),
                Seed = result.GetValue(seed),
                Concurrency = result.GetValue(concurrency),
                ApiKeyEnv = result.GetValue(apiKeyEnv)!,
                RetryFailed = result.GetValue(retryFailed),
                TimeoutSeconds = result.GetValue(timeout),
                MaxAttempts = result.GetValue(maxAttempts),
                MinChars = result.GetValue(minChars),
                MaxChars = result.GetValue(maxChars),
                Accept = result.GetValue(accept),
                ChatFormat = result.GetValue(chatFormat),
                Device = result.GetValue(device)!,
                DType = result.GetValue(dtype)!,
            };
            options = options with { Logprobs = result.GetValue(logprobs), Tokenizer = result.GetValue(tokenizer)?.FullName, ServerTokenIds = result.GetValue(serverTokenIds) };
            var writer = result.InvocationConfiguration.Output;
            GenerateSummary summary;
            try
            {
                summary = result.GetValue(selfInstruct) is { } seeds
                    ? SelfInstruct(options, seeds, result.GetValue(num), result.GetValue(header), result.GetValue(prompts), writer, cancel)
                    : result.GetValue(prompts) is null ? throw new ArgumentException("give --prompts F.jsonl, or --self-instruct SEEDS.jsonl --num N")
                    : GenerateRunner.RunAsync(options, new PlainProgress(writer), cancel).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                result.InvocationConfiguration.Error.WriteLine(
                    $"distill generate: interrupted; every answered prompt is in {options.Output}; rerun the same command to continue");
                return 130;
            }
            writer.WriteLine(Summary(summary, options));
            if (options.Logprobs is not null) writer.WriteLine($"distill generate: top-{options.Logprobs} log-probabilities of every generated token: logit cache {options.CachePath}");
            if (summary.Failed + summary.FailedEarlier == 0) return 0;
            result.InvocationConfiguration.Error.WriteLine($"distill generate: failed prompts are listed with their reasons in {options.FailedPath}; rerun with --retry-failed to try them again");
            return 1;
        })));
        return command;
    }

    private static GenerateSummary SelfInstruct(GenerateOptions options, FileInfo seeds, int? num, string? header, FileInfo? prompts, TextWriter writer, CancellationToken cancel)
    {
        if (prompts is not null) throw new ArgumentException("give one of --prompts and --self-instruct (self-instruct answers the instructions it grows)");
        var selfInstruct = new SelfInstructOptions { Seeds = seeds.FullName, Num = num ?? throw new ArgumentException("--self-instruct needs --num N, the instructions to grow") };
        if (header is not null) selfInstruct = selfInstruct with { Header = header };
        var s = SelfInstructRunner.RunAsync(options, selfInstruct, new PlainProgress(writer), cancel).GetAwaiter().GetResult();
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

    // One line every ten seconds and none at the end (the summary follows); reports come from many threads.
    private sealed class PlainProgress(TextWriter output) : IProgress<GenerateProgress>
    {
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
        private readonly Lock _lock = new();

        public void Report(GenerateProgress p)
        {
            lock (_lock)
            {
                if (_sinceLine.Elapsed < ProgressInterval || p.Finished == p.ToDo) return;
                _sinceLine.Restart();
                var rate = p.CompletionTokens / Math.Max(p.Elapsed.TotalSeconds, 1e-9);
                var eta = p.Finished > 0 ? TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.Finished * (p.ToDo - p.Finished)) : (TimeSpan?)null;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"generate: {p.Finished}/{p.ToDo} prompts, {p.InFlight} in flight, {p.Retries} retries, {rate:0} tok/s{(eta is { } e ? $", ETA {e:hh\\:mm\\:ss}" : "")}"));
            }
        }
    }
}
