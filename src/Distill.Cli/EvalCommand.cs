using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Distill.Evaluation;

namespace Distill.Cli;

/// <summary><c>distill eval</c>: held-out loss, perplexity and accuracy of a model, against a teacher or cache, with optional greedy generation.</summary>
public static class EvalCommand
{
    /// <summary>The <c>eval</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var o = new RecordOptions<EvalOptions>(new EvalOptions { Model = "", Data = "" });
        o.Add(new Option<DirectoryInfo>("--model") { Description = "Hugging Face folder of the model to evaluate", Required = true }, (r, v) => r with { Model = v.FullName });
        o.Add(new Option<FileInfo>("--data") { Description = "Held-out chat data, JSONL", Required = true }, (r, v) => r with { Data = v.FullName });
        o.Add(new Option<DirectoryInfo?>("--teacher") { Description = "Teacher model folder: full-vocabulary KL and top-1 agreement" }, (r, v) => r with { Teacher = v?.FullName });
        o.Add(new Option<DirectoryInfo?>("--cache") { Description = "Logit cache made from the same data: top-K KL and top-1 agreement" }, (r, v) => r with { Cache = v?.FullName });
        o.Add(new Option<bool>("--generate") { Description = "Also answer each conversation's last assistant turn greedily and score it" }, (r, v) => r with { Generate = v });
        o.Add(new Option<int>("--max-new-tokens") { Description = "Token limit per generated answer" }, (r, v) => r with { MaxNewTokens = v }, r => r.MaxNewTokens);
        o.Add(new Option<int>("--batch-size") { Description = "Examples per forward pass" }, (r, v) => r with { BatchSize = v }, r => r.BatchSize);
        o.Add(CommonOptions.ChatFormat(), (r, v) => r with { ChatFormat = v });
        o.Add(CommonOptions.Device(), (r, v) => r with { Device = v! }, r => r.Device);
        o.Add(CommonOptions.DType("Compute dtype of the model(s)"), (r, v) => r with { DType = v! }, r => r.DType);
        o.Add(CommonOptions.NoVerify(), (r, v) => r with { Verify = !v });
        o.Add(CommonOptions.MaxSeqLen(), (r, v) => r with { MaxSeqLen = v });
        var json = CommonOptions.Json("Print the metrics as JSON");
        var command = new Command("eval", "Evaluate a model on held-out conversations: loss, perplexity, accuracy, KL to a teacher, generation") { json };
        o.AddTo(command);
        command.SetAction(result => CliErrors.Run(result, "distill eval", () =>
        {
            var metrics = EvalRunner.Run(o.Bind(result));
            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(metrics, CliJson.Indented));
            else WriteTable(output, metrics);
            return 0;
        }));
        return command;
    }

    private static void WriteTable(TextWriter output, EvalResult r)
    {
        var rows = new List<(string, string)>
        {
            ("examples", Format(r.Examples)),
            ("tokens", Format(r.Tokens)),
            ("loss", Format(r.Loss)),
            ("perplexity", Format(r.Perplexity)),
            ("accuracy", Format(r.Accuracy)),
        };
        if (r.Kl is { } kl) rows.Add(($"kl ({r.KlSupport})", Format(kl)));
        if (r.Top1Agreement is { } agree) rows.Add(("top-1 agreement", Format(agree)));
        if (r.Generation is { } g)
        {
            rows.Add(("generated", Format(g.Conversations)));
            rows.Add(("exact match", Format(g.ExactMatch)));
            rows.Add(("final answers", Format(g.WithFinalAnswer)));
            if (g.FinalAnswerContained is { } contained) rows.Add(("final answer found", Format(contained)));
            if (g.FinalAnswerCorrect is { } correct) rows.Add(("final answer correct", Format(correct)));
            rows.Add(("stopped at eos", Format(g.StoppedAtEos)));
        }
        var width = rows.Max(row => row.Item1.Length) + 2;
        foreach (var (name, value) in rows) output.WriteLine(name.PadRight(width) + value);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
