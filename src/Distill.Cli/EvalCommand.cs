using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Distill.Evaluation;

namespace Distill.Cli;

/// <summary><c>distill eval</c>: held-out loss, perplexity and accuracy of a model, against a teacher or cache, with optional greedy generation.</summary>
public static class EvalCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>The <c>eval</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face folder of the model to evaluate", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "Held-out chat data, JSONL", Required = true };
        var teacher = new Option<DirectoryInfo?>("--teacher") { Description = "Teacher model folder: full-vocabulary KL and top-1 agreement" };
        var cache = new Option<DirectoryInfo?>("--cache") { Description = "Logit cache made from the same data: top-K KL and top-1 agreement" };
        var generate = new Option<bool>("--generate") { Description = "Also answer each conversation's last assistant turn greedily and score it" };
        var json = new Option<bool>("--json") { Description = "Print the metrics as JSON" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Token limit per generated answer", DefaultValueFactory = _ => 256 };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per forward pass", DefaultValueFactory = _ => 4 };
        var chatFormat = new Option<string?>("--chat-format") { Description = "Built-in chat template to use instead of the model's: chatml, llama3, llama2, mistral, zephyr" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype of the model(s)", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var noVerify = CommonOptions.NoVerify();
        var maxSeqLen = CommonOptions.MaxSeqLen();
        var command = new Command("eval", "Evaluate a model on held-out conversations: loss, perplexity, accuracy, KL to a teacher, generation")
        {
            model, data, teacher, cache, generate, json, maxNewTokens, batchSize, chatFormat, device, dtype, noVerify, maxSeqLen,
        };
        command.SetAction(result => CliErrors.Run(result, "distill eval", () =>
        {
            var metrics = EvalRunner.Run(new EvalOptions
            {
                Model = result.GetValue(model)!.FullName,
                Data = result.GetValue(data)!.FullName,
                Teacher = result.GetValue(teacher)?.FullName,
                Cache = result.GetValue(cache)?.FullName,
                Generate = result.GetValue(generate),
                MaxNewTokens = result.GetValue(maxNewTokens),
                BatchSize = result.GetValue(batchSize),
                ChatFormat = result.GetValue(chatFormat),
                Device = result.GetValue(device)!,
                DType = result.GetValue(dtype)!,
                Verify = !result.GetValue(noVerify),
                MaxSeqLen = result.GetValue(maxSeqLen),
            });
            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(metrics, Json));
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
