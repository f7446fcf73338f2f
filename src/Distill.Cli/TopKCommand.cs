using System.CommandLine;
using System.Globalization;
using Distill.LogitCache;
using Distill.Teachers;
using Distill.Tensors;
using Distill.Text.Conversations;

namespace Distill.Cli;

/// <summary><c>distill topk</c>: runs a teacher over chat data into a logit cache; <c>distill topk merge</c> joins slices.</summary>
public static class TopKCommand
{
    /// <summary>The <c>topk</c> command with its <c>merge</c> subcommand; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var o = new RecordOptions<TopKOptions>(new TopKOptions { Data = "", Output = "" });
        o.Add(new Option<DirectoryInfo?>("--teacher") { Description = "Hugging Face folder of the teacher model (or --teacher-url)" }, (r, v) => r with { Teacher = v?.FullName });
        o.Add(new Option<string?>("--teacher-url") { Description = "An OpenAI-compatible server as the teacher (black-box: its top log-probabilities of the data, K ≤ 20; needs --tokenizer)" },
            (r, v) => r with { TeacherUrl = v });
        o.Add(new Option<string?>("--teacher-model") { Description = "The model to ask --teacher-url for (default: the first of its /v1/models)" }, (r, v) => r with { TeacherModel = v });
        o.Add(new Option<DirectoryInfo?>("--tokenizer") { Description = "With --teacher-url: the (student's) folder whose tokenizer and chat template tokenize the data" },
            (r, v) => r with { Tokenizer = v?.FullName });
        o.Add(new Option<int>("--concurrency") { Description = "With --teacher-url: requests in flight at most" }, (r, v) => r with { Concurrency = v }, r => r.Concurrency);
        o.Add(new Option<FileInfo>("--data") { Description = "Chat data, JSONL", Required = true }, (r, v) => r with { Data = v.FullName });
        o.Add(new Option<DirectoryInfo>("--out") { Description = "Cache folder to write (a rerun resumes it)", Required = true }, (r, v) => r with { Output = v.FullName });
        o.Add(new Option<int>("--top-k") { Description = "Teacher entries kept per supervised token" }, (r, v) => r with { TopK = v }, r => r.TopK);
        o.Add(CommonOptions.MaxSeqLen(), (r, v) => r with { MaxSeqLen = v });
        o.Add(CommonOptions.DType("Teacher compute dtype (logits are taken to fp32 either way)"), (r, v) => r with { ComputeDType = Devices.ParseComputeDType(v!) },
            r => Devices.ComputeDTypeName(r.ComputeDType));
        var logitDType = o.Add(new Option<string>("--logit-dtype") { Description = "Storage dtype of the cached logits" }, (r, v) => r with { LogitDType = v }, r => r.LogitDType);
        logitDType.AcceptOnlyFromAmong("f32", "bf16", "f16");
        o.Add(new Option<long>("--batch-tokens") { Description = "Padded tokens per forward pass (examples are batched by length)" }, (r, v) => r with { BatchTokens = v }, r => r.BatchTokens);
        o.Add(new Option<string?>("--shard") { Description = "Compute only slice I of N (0-based) of the examples, e.g. 0/4; the last slice to finish merges the cache" },
            (r, v) => r with { Slice = CacheSlice.Parse(v!) });
        o.Add(CommonOptions.ChatFormat(), (r, v) => r with { ChatFormat = v });
        o.Add(CommonOptions.Supervise(), (r, v) => r with { Supervise = CommonOptions.ParseSupervise(v!) }, r => CommonOptions.SuperviseName(r.Supervise));
        o.Add(CommonOptions.ConversationFormat(), (r, v) => r with { Format = ConversationFormats.ByName[v!] }, r => ConversationFormats.Name(r.Format));
        o.Add(CommonOptions.SkipBad(), (r, v) => r with { SkipBad = v });
        o.Add(CommonOptions.Device(), (r, v) => r with { Device = v! }, r => r.Device);
        var command = new Command("topk", "Run a teacher over chat data and cache its top-K logits for every supervised token. " +
            "Ctrl-C or SIGTERM keeps the complete shards (rerun to resume) and exits 130 or 143; any error exits 1");
        o.AddTo(command);
        command.Subcommands.Add(CreateMerge());
        command.SetAction(result => CliErrors.Run(result, "distill topk", () =>
        {
            var options = o.Bind(result);
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
        var result = Terminal.Open(output) is { } console
            ? Terminal.WithBar(console, task => TopKRunner.Run(options, Terminal.Report<TopKProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.TokensTotal);
                task.Value = p.TokensDone;
                task.Description = string.Create(CultureInfo.InvariantCulture, $"{p.ExamplesDone}/{p.ExamplesTotal} examples, {p.TokensPerSecond:0} tok/s");
            }), cancel))
            : TopKRunner.Run(options, Terminal.Lines<TopKProgress>(output, Line, p => p.ExamplesDone == p.ExamplesTotal), cancel);
        ResolvedSettings.Write(ResolvedSettings.TopKPath(options), options);
        if (result.Skipped.Count > 0) error.WriteLine($"distill topk: {BadLine.Summary(result.Skipped)}");
        if (result.ExamplesTruncated > 0)
            error.WriteLine($"distill topk: {result.ExamplesTruncated} example(s) were longer than --max-seq-len {result.MaxSeqLen} tokens and were cut to it");
        var resumed = result.ExamplesResumed > 0 ? $" ({result.ExamplesResumed} already complete)" : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"distill topk: {result.ExamplesComputed} examples computed{resumed}; {options.Output}: {(result.Whole ? $"complete, {result.Manifest.ExampleCount} examples" : "slice done")}"));
        if (result.MergeNote is not null) output.WriteLine($"distill topk: {result.MergeNote}");
        return 0;
    }

    private static string Line(TopKProgress p)
    {
        var eta = p.Remaining is { } r ? $", ETA {r:hh\\:mm\\:ss}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"topk: {p.ExamplesDone}/{p.ExamplesTotal} examples, {p.TokensDone}/{p.TokensTotal} tokens, {p.TokensPerSecond:0} tok/s{eta}");
    }
}
