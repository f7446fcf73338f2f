using System.CommandLine;
using System.Text.Json;
using Distill.Text.Conversations;
using Distill.Text.Tokenization;
using Spectre.Console;

namespace Distill.Cli;

/// <summary><c>distill tokenize</c>: shows how text or chat data is tokenized and which tokens are trained on.</summary>
internal static class TokenizeCommand
{
    private const int MaxReasonsShown = 10;

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model folder with tokenizer.json", Required = true };
        var text = new Option<string?>("--text") { Description = "Tokenize this text (no chat template)" };
        var data = new Option<FileInfo?>("--data") { Description = "Tokenize the conversations of this JSONL file" };
        var json = new Option<bool>("--json") { Description = "One JSON object per example: {\"ids\": [...]} for --text, {\"ids\": [...], \"mask\": [...]} for --data" };
        var limit = new Option<int?>("--limit") { Description = "Stop after this many examples" };
        var chatFormat = new Option<string?>("--chat-format") { Description = "Built-in chat template to use instead of the model's: chatml, llama3, llama2, mistral, zephyr" };
        var supervise = new Option<Supervise>("--supervise") { Description = "Which assistant turns are trained on: all or last", DefaultValueFactory = _ => Supervise.All };
        var maxSeqLen = new Option<int?>("--max-seq-len") { Description = "Cut examples to this many tokens" };
        var format = new Option<ConversationFormat>("--format") { Description = "Line layout: auto, messages, nemo or promptcompletion", DefaultValueFactory = _ => ConversationFormat.Auto };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unusable lines and report them at the end instead of stopping" };
        var command = new Command("tokenize", "Tokenize text or chat data with a model's tokenizer and chat template, showing the loss mask")
        {
            model, text, data, json, limit, chatFormat, supervise, maxSeqLen, format, skipBad,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(text) is null) == (result.GetValue(data) is null))
                result.AddError("give exactly one of --text and --data");
            if (result.GetValue(limit) is < 1)
                result.AddError("--limit must be at least 1");
        });
        command.SetAction(result =>
        {
            try
            {
                var modelDir = result.GetValue(model)!.FullName;
                if (result.GetValue(text) is { } input)
                    return TokenizeText(HfTokenizer.Load(modelDir), input, result.GetValue(json));
                var options = new ExampleOptions(result.GetValue(supervise), result.GetValue(maxSeqLen));
                var chat = ChatTokenizer.Load(modelDir, result.GetValue(chatFormat), options);
                var reader = ConversationReader.Open(result.GetValue(data)!.FullName, new ConversationReaderOptions(result.GetValue(format), result.GetValue(skipBad)));
                return TokenizeData(chat, reader, result.GetValue(json), result.GetValue(limit));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"distill tokenize: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int TokenizeText(HfTokenizer tokenizer, string text, bool json)
    {
        var encoding = tokenizer.Encode(text);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { ids = encoding.Ids }));
            return 0;
        }
        Console.WriteLine($"{encoding.Ids.Length} tokens");
        WriteTokens(tokenizer, encoding.Ids, mask: null);
        return 0;
    }

    private static int TokenizeData(ChatTokenizer chat, ConversationReader reader, bool json, int? limit)
    {
        var skipped = new List<BadLine>();
        var examples = chat.InspectAll(reader.Read(), reader.Options.SkipBad ? skipped : null);
        foreach (var inspected in limit is { } n ? examples.Take(n) : examples)
        {
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new { ids = inspected.Example.InputIds, mask = inspected.Example.LossMask.Select(m => (int)m) }));
            else
                WriteExample(chat.Tokenizer, inspected);
        }
        ReportSkipped([.. reader.Skipped, .. skipped]);
        return 0;
    }

    private static void WriteExample(HfTokenizer tokenizer, InspectedExample inspected)
    {
        var example = inspected.Example;
        var truncated = example.Truncated ? ", truncated" : "";
        Console.WriteLine($"== {example.SourceFile}:{example.Line}: {example.InputIds.Length} tokens, {example.SupervisedCount} supervised{truncated}");
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(string.Concat(inspected.Segments().Select(s => s.Supervised ? $"[[{s.Text}]]" : s.Text)));
        }
        else
        {
            AnsiConsole.MarkupLine(string.Concat(inspected.Segments().Select(s =>
                s.Supervised ? $"[black on green]{Markup.Escape(s.Text)}[/]" : $"[grey]{Markup.Escape(s.Text)}[/]")));
        }
        WriteTokens(tokenizer, example.InputIds, example.LossMask);
        Console.WriteLine();
    }

    private static void WriteTokens(HfTokenizer tokenizer, int[] ids, byte[]? mask)
    {
        Console.WriteLine(mask is null ? "  pos      id  piece" : "  pos      id  mask  piece");
        for (var t = 0; t < ids.Length; t++)
        {
            var piece = JsonSerializer.Serialize(tokenizer.Decode([ids[t]]));
            Console.WriteLine(mask is null ? $"{t,5} {ids[t],7}  {piece}" : $"{t,5} {ids[t],7}  {mask[t],4}  {piece}");
        }
    }

    private static void ReportSkipped(List<BadLine> skipped)
    {
        if (skipped.Count == 0)
            return;
        Console.Error.WriteLine($"distill tokenize: skipped {skipped.Count} bad line(s):");
        foreach (var bad in skipped.OrderBy(b => b.Line).Take(MaxReasonsShown))
            Console.Error.WriteLine($"  {bad}");
        if (skipped.Count > MaxReasonsShown)
            Console.Error.WriteLine($"  ... and {skipped.Count - MaxReasonsShown} more");
    }
}
