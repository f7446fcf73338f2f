using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Distill.Models;
using Distill.Text.Conversations;
using Distill.Text.Tokenization;
using Spectre.Console;

namespace Distill.Cli;

/// <summary><c>distill tokenize</c>: shows how text or chat data is tokenized and which tokens are trained on.</summary>
public static class TokenizeCommand
{
    // Pieces are shown as JSON strings so whitespace is visible; "<|im_end|>" should stay readable.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>tokenize</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model folder with tokenizer.json", Required = true };
        var text = new Option<string?>("--text") { Description = "Tokenize this text (no chat template)" };
        var data = new Option<FileInfo?>("--data") { Description = "Tokenize the conversations of this JSONL file" };
        var json = CommonOptions.Json("One JSON object per example: {\"ids\": [...]} for --text, {\"ids\": [...], \"mask\": [...]} for --data");
        var limit = new Option<int?>("--limit") { Description = "Stop after this many examples" };
        var chatFormat = CommonOptions.ChatFormat();
        var maxSeqLen = CommonOptions.MaxSeqLen();
        var reading = new RecordOptions<ConversationReaderOptions>(ConversationReaderOptions.Default);
        reading.Add(CommonOptions.ConversationFormat(), (r, v) => r with { Format = ConversationFormats.ByName[v!] }, r => ConversationFormats.Name(r.Format));
        reading.Add(CommonOptions.SkipBad(), (r, v) => r with { SkipBad = v });
        var command = new Command("tokenize", "Tokenize text or chat data with a model's tokenizer and chat template, showing the loss mask")
        {
            model, text, data, json, limit, chatFormat, maxSeqLen,
        };
        var examples = new RecordOptions<ExampleOptions>(ExampleOptions.Default);
        examples.Add(CommonOptions.Supervise(), (r, v) => r with { Supervise = CommonOptions.ParseSupervise(v!) }, r => CommonOptions.SuperviseName(r.Supervise));
        examples.AddTo(command);
        reading.AddTo(command);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(text) is null) == (result.GetValue(data) is null))
                result.AddError("give exactly one of --text and --data");
            if (result.GetValue(limit) is < 1)
                result.AddError("--limit must be at least 1");
        });
        command.SetAction(result => CliErrors.Run(result, "distill tokenize", () =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var modelDir = result.GetValue(model)!.FullName;
            if (result.GetValue(text) is { } input)
                return TokenizeText(output, HfTokenizer.Load(modelDir), input, result.GetValue(json));
            var options = examples.Bind(result) with { MaxSeqLen = ContextLength.Resolve(result.GetValue(maxSeqLen), modelDir) };
            var chat = ChatTokenizer.Load(modelDir, result.GetValue(chatFormat), options);
            var reader = ConversationReader.Open(result.GetValue(data)!.FullName, reading.Bind(result));
            return TokenizeData(output, error, chat, reader, result.GetValue(json), result.GetValue(limit));
        }));
        return command;
    }

    private static int TokenizeText(TextWriter output, HfTokenizer tokenizer, string text, bool json)
    {
        var encoding = tokenizer.Encode(text);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new { ids = encoding.Ids }));
            return 0;
        }
        output.WriteLine($"{encoding.Ids.Length} tokens");
        WriteTokens(output, tokenizer, encoding.Ids, mask: null);
        return 0;
    }

    private static int TokenizeData(TextWriter output, TextWriter error, ChatTokenizer chat, ConversationReader reader, bool json, int? limit)
    {
        var skipped = new List<BadLine>();
        var examples = chat.InspectAll(reader.Read(), reader.Options.SkipBad ? skipped : null);
        var (count, truncated) = (0, 0);
        var console = Terminal.Open(output);
        foreach (var inspected in limit is { } n ? examples.Take(n) : examples)
        {
            count++;
            if (inspected.Example.Truncated) truncated++;
            if (json)
                output.WriteLine(JsonSerializer.Serialize(new { ids = inspected.Example.InputIds, mask = inspected.Example.LossMask.Select(m => (int)m) }));
            else
                WriteExample(output, console, chat.Tokenizer, inspected);
        }
        List<BadLine> bad = [.. reader.Skipped, .. skipped];
        if (bad.Count > 0) error.WriteLine($"distill tokenize: {BadLine.Summary(bad)}");
        if (truncated > 0)
            error.WriteLine($"distill tokenize: {truncated} example(s) were longer than --max-seq-len {chat.Options.MaxSeqLen} tokens and were cut to it");
        if (count == 0)
            error.WriteLine($"distill tokenize: {reader.SourceName}: no usable conversation");
        return count == 0 ? 1 : 0;
    }

    private static void WriteExample(TextWriter output, IAnsiConsole? console, HfTokenizer tokenizer, InspectedExample inspected)
    {
        var example = inspected.Example;
        var truncated = example.Truncated ? ", truncated" : "";
        output.WriteLine($"== {example.SourceFile}:{example.Line}: {example.InputIds.Length} tokens, {example.SupervisedCount} supervised{truncated}");
        if (console is not null)
        {
            console.MarkupLine(string.Concat(inspected.Segments().Select(s =>
                s.Supervised ? $"[black on green]{Markup.Escape(s.Text)}[/]" : $"[grey]{Markup.Escape(s.Text)}[/]")));
        }
        else
        {
            output.WriteLine(string.Concat(inspected.Segments().Select(s => s.Supervised ? $"[[{s.Text}]]" : s.Text)));
        }
        WriteTokens(output, tokenizer, example.InputIds, example.LossMask);
        output.WriteLine();
    }

    private static void WriteTokens(TextWriter output, HfTokenizer tokenizer, int[] ids, byte[]? mask)
    {
        output.WriteLine(mask is null ? "  pos      id  piece" : "  pos      id  mask  piece");
        for (var t = 0; t < ids.Length; t++)
        {
            var piece = JsonSerializer.Serialize(tokenizer.Decode([ids[t]]), Readable);
            output.WriteLine(mask is null ? $"{t,5} {ids[t],7}  {piece}" : $"{t,5} {ids[t],7}  {mask[t],4}  {piece}");
        }
    }
}
