using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Distill.LogitCache;
using Distill.Teachers;
using Distill.Tensors;
using Distill.Text.Conversations;
using Spectre.Console;

namespace Distill.Cli;

/// <summary><c>distill topk</c>: runs a teacher over chat data into a logit cache; <c>distill topk merge</c> joins slices.</summary>
public static class TopKCommand
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>The <c>topk</c> command with its <c>merge</c> subcommand; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var teacher = new Option<DirectoryInfo?>("--teacher") { Description = "Hugging Face folder of the teacher model (or --teacher-url)" };
        var teacherUrl = new Option<string?>("--teacher-url") { Description = "An OpenAI-compatible server as the teacher (black-box: its top log-probabilities of the data, K ≤ 20; needs --tokenizer)" };
        var teacherModel = new Option<string?>("--teacher-model") { Description = "The model to ask --teacher-url for (default: the first of its /v1/models)" };
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "With --teacher-url: the (student's) folder whose tokenizer and chat template tokenize the data" };
        var concurrency = new Option<int>("--concurrency") { Description = "With --teacher-url: requests in flight at most", DefaultValueFactory = _ => 16 };
        var data = new Option<FileInfo>("--data") { Description = "Chat data, JSONL", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Cache folder to write (a rerun resumes it)", Required = true };
        var topK = new Option<int>("--top-k") { Description = "Teacher entries kept per supervised token", DefaultValueFactory = _ => 100 };
        var maxSeqLen = CommonOptions.MaxSeqLen();
        var dtype = new Option<string>("--dtype") { Description = "Teacher compute dtype (logits are taken to fp32 either way)", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var logitDType = new Option<string>("--logit-dtype") { Description = "Storage dtype of the cached logits", DefaultValueFactory = _ => "f32" };
        logitDType.AcceptOnlyFromAmong("f32", "bf16", "f16");
        var batchTokens = new Option<long>("--batch-tokens") { Description = "Padded tokens per forward pass (examples are batched by length)", DefaultValueFactory = _ => 8192 };
        var shard = new Option<string?>("--shard") { Description = "Compute only slice I of N (0-based) of the examples, e.g. 0/4; the last slice to finish merges the cache" };
        var chatFormat = new Option<string?>("--chat-format") { Description = "Built-in chat template to use instead of the teacher's: chatml, llama3, llama2, mistral, zephyr" };
        var supervise = CommonOptions.Supervise();
        var format = new Option<string>("--format") { Description = "Layout of the JSONL lines", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong([.. ConversationFormats.ByName.Keys]);
        var skipBad = CommonOptions.SkipBad();
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var command = new Command("topk", "Run a teacher over chat data and cache its top-K logits for every supervised token. " +
            "Ctrl-C or SIGTERM keeps the complete shards (rerun to resume) and exits 130 or 143; any error exits 1")
        {
            teacher, teacherUrl, teacherModel, tokenizer, concurrency, data, output, topK, maxSeqLen, dtype, logitDType, batchTokens, shard, chatFormat, supervise, format, skipBad, device,
        };
        command.Subcommands.Add(CreateMerge());
        command.SetAction(result => CliErrors.Run(result, "distill topk", () =>
        {
            var options = new TopKOptions
            {
                Teacher = result.GetValue(teacher)?.FullName,
                TeacherUrl = result.GetValue(teacherUrl),
                TeacherModel = result.GetValue(teacherModel),
                Tokenizer = result.GetValue(tokenizer)?.FullName,
                Concurrency = result.GetValue(concurrency),
                Data = result.GetValue(data)!.FullName,
                Output = result.GetValue(output)!.FullName,
                TopK = result.GetValue(topK),
                MaxSeqLen = result.GetValue(maxSeqLen),
                ComputeDType = Devices.ParseComputeDType(result.GetValue(dtype)!),
                LogitDType = result.GetValue(logitDType)!,
                BatchTokens = result.GetValue(batchTokens),
                Slice = result.GetValue(shard) is { } s ? CacheSlice.Parse(s) : null,
                ChatFormat = result.GetValue(chatFormat),
                Supervise = CommonOptions.ParseSupervise(result.GetValue(supervise)),
                Format = ConversationFormats.ByName[result.GetValue(format)!],
                SkipBad = result.GetValue(skipBad),
                Device = result.GetValue(device)!,
            };
            using var signals = new Signals("distill topk", result.InvocationConfiguration.Error, "stopping after the shard being written");
            return Run(options, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, signals.Token);
        }, Interrupted));
        return command;
    }

    private static Command CreateMerge()
    {
        var cache = new Argument<DirectoryInfo>("cache") { Description = "Cache folder holding the part manifests of every slice" };
        var command = new Command("merge", "Join the slices of a sharded topk run into one cache (manifest.json)") { cache };
        command.SetAction(result => CliErrors.Run(result, "distill topk merge", () =>
        {
            var manifest = TopKRunner.Merge(result.GetValue(cache)!.FullName);
            result.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.GetValue(cache)!.FullName}: {manifest.ExampleCount} examples in {manifest.Shards.Count} shard(s); manifest.json written"));
            return 0;
        }));
        return command;
    }

    private const string Interrupted = "interrupted; rerun the same command to resume after the complete shards";

    private static int Run(TopKOptions options, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        TopKResult result;
        if (output == Console.Out && !Console.IsOutputRedirected)
            result = RunWithBar(options, cancel);
        else
            result = TopKRunner.Run(options, new PlainProgress(output), cancel);
        if (result.Skipped.Count > 0) error.WriteLine($"distill topk: {BadLine.Summary(result.Skipped)}");
        if (result.ExamplesTruncated > 0)
            error.WriteLine($"distill topk: {result.ExamplesTruncated} example(s) were longer than --max-seq-len {result.MaxSeqLen} tokens and were cut to it");
        var resumed = result.ExamplesResumed > 0 ? $" ({result.ExamplesResumed} already complete)" : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"distill topk: {result.ExamplesComputed} examples computed{resumed}; {options.Output}: {(result.Whole ? $"complete, {result.Manifest.ExampleCount} examples" : "slice done")}"));
        if (result.MergeNote is not null) output.WriteLine($"distill topk: {result.MergeNote}");
        return 0;
    }

    private static TopKResult RunWithBar(TopKOptions options, CancellationToken cancel)
    {
        TopKResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("teacher", maxValue: 1);
                var progress = new CallbackProgress(p =>
                {
                    task.MaxValue = Math.Max(1, p.TokensTotal);
                    task.Value = p.TokensDone;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{p.ExamplesDone}/{p.ExamplesTotal} examples, {p.TokensPerSecond:0} tok/s");
                });
                result = TopKRunner.Run(options, progress, cancel);
            });
        return result!;
    }

    // Progress<T> would post to the thread pool; these report on the runner's thread, in order.
    private sealed class CallbackProgress(Action<TopKProgress> report) : IProgress<TopKProgress>
    {
        public void Report(TopKProgress value) => report(value);
    }

    private sealed class PlainProgress(TextWriter output) : IProgress<TopKProgress>
    {
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
        private bool _first = true;

        public void Report(TopKProgress p)
        {
            var finished = p.ExamplesDone == p.ExamplesTotal;
            if (!_first && !finished && _sinceLine.Elapsed < PlainInterval) return;
            _first = false;
            _sinceLine.Restart();
            var eta = p.Remaining is { } r ? $", ETA {r:hh\\:mm\\:ss}" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"topk: {p.ExamplesDone}/{p.ExamplesTotal} examples, {p.TokensDone}/{p.TokensTotal} tokens, {p.TokensPerSecond:0} tok/s{eta}"));
        }
    }
}
