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
        o.Add(new Option<FileInfo>("--prompts") { Description = "Prompts, JSONL: messages, NeMo, prompt-completion or {\"prompt\": ...} lines", Required = true },
            (r, v) => r with { Prompts = v.FullName });
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
        var command = new Command("generate", "Have a teacher answer prompts (KD through generated data): a local model or an OpenAI-compatible server");
        o.AddTo(command);
        command.SetAction((result, cancel) => Task.FromResult(CliErrors.Run(result, "distill generate", () =>
        {
            var options = o.Bind(result);
            var writer = result.InvocationConfiguration.Output;
            GenerateSummary summary;
            try
            {
                summary = GenerateRunner.RunAsync(options, Terminal.Lines<GenerateProgress>(writer, Line, _ => false), cancel).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                result.InvocationConfiguration.Error.WriteLine(
                    $"distill generate: interrupted; every answered prompt is in {options.Output}; rerun the same command to continue");
                return 130;
            }
            ResolvedSettings.Write(ResolvedSettings.GeneratePath(options), options);
            writer.WriteLine(Summary(summary, options));
            if (summary.Failed + summary.FailedEarlier == 0) return 0;
            result.InvocationConfiguration.Error.WriteLine($"distill generate: failed prompts are listed with their reasons in {options.FailedPath}; rerun with --retry-failed to try them again");
            return 1;
        })));
        return command;
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
