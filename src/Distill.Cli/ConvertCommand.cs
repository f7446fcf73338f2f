using System.CommandLine;
using System.Globalization;
using Distill.LogitCache;
using Distill.Teachers;
using Distill.Text.Templates;
using Distill.Text.Tokenization;

namespace Distill.Cli;

/// <summary><c>distill convert nemo-export|nemo-import</c>: moves logit caches to and from NeMo-Aligner's KD JSONL chunks.</summary>
public static class ConvertCommand
{
    /// <summary>The <c>convert</c> command; writes to the invocation's output and error writers.</summary>
    public static Command Create()
    {
        var command = new Command("convert", "Convert logit caches to and from other tools' formats");
        command.Subcommands.Add(CreateExport());
        command.Subcommands.Add(CreateImport());
        return command;
    }

    private static Command CreateExport()
    {
        var cache = new Option<DirectoryInfo>("--cache") { Description = "The logit cache to export", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the chunk files <name>_<i>.jsonl", Required = true };
        var name = new Option<string>("--name") { Description = "Chunk file name prefix", DefaultValueFactory = _ => NemoJsonl.DefaultName };
        var chunks = new Option<int>("--chunks") { Description = "Number of chunk files (each holds the same number of lines)", DefaultValueFactory = _ => NemoJsonl.DefaultChunkCount };
        var padId = new Option<int?>("--pad-id") { Description = "Token id rows are padded with (NeMo uses the tokenizer's eos id)" };
        var teacher = new Option<DirectoryInfo?>("--teacher") { Description = "Take the pad id from this model folder's tokenizer (its eos token)" };
        var drop = new Option<bool>("--drop-remainder") { Description = "Leave out the last examples that do not fill every chunk instead of repeating the first ones" };
        var noVerify = CommonOptions.NoVerify();
        var command = new Command("nemo-export", "Write a logit cache as NeMo-Aligner KD JSONL chunks") { cache, output, name, chunks, padId, teacher, drop, noVerify };
        command.SetAction(result => CliErrors.Run(result, "distill convert nemo-export", () =>
        {
            var pad = result.GetValue(padId) ?? PadFromTeacher(result.GetValue(teacher));
            using var reader = LogitCacheReader.Open(result.GetValue(cache)!.FullName, verifyChecksums: !result.GetValue(noVerify));
            var exported = NemoJsonl.Export(reader, result.GetValue(output)!.FullName, result.GetValue(name)!, result.GetValue(chunks), pad,
                result.GetValue(drop) ? NemoRemainder.Drop : NemoRemainder.Repeat);
            var writer = result.InvocationConfiguration.Output;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"distill convert: {exported.Files.Count} chunk(s) of {exported.ExamplesPerChunk} lines; {exported.RepeatedLines} repeated line(s), {exported.DroppedExamples} dropped example(s)"));
            foreach (var file in exported.Files) writer.WriteLine($"  {file}");
            return 0;
        }));
        return command;
    }

    private static int PadFromTeacher(DirectoryInfo? teacher)
    {
        if (teacher is null) throw new ArgumentException("give --pad-id (NeMo pads with the tokenizer's eos id) or --teacher to read it from");
        var tokenizer = HfTokenizer.Load(teacher.FullName);
        return tokenizer.EosTokenId ?? throw new InvalidDataException($"{teacher.FullName}: the tokenizer declares no eos token; give --pad-id");
    }

    private static Command CreateImport()
    {
        var files = new Option<FileInfo[]>("--files") { Description = "NeMo KD chunk files, in order", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Cache folder to write (a rerun resumes it)", Required = true };
        var teacher = new Option<DirectoryInfo>("--teacher") { Description = "The teacher that produced the logits (fingerprints, vocabulary, tokenizer)", Required = true };
        var chatFormat = CommonOptions.ChatFormat("Built-in chat template the data was rendered with, if not the teacher's own");
        var command = new Command("nemo-import", "Read NeMo-Aligner KD JSONL chunks into a logit cache") { files, output, teacher, chatFormat };
        command.SetAction(result => CliErrors.Run(result, "distill convert nemo-import", () =>
        {
            var teacherDir = result.GetValue(teacher)!.FullName;
            var tokenizer = HfTokenizer.Load(teacherDir);
            var template = result.GetValue(chatFormat) is { } format ? ChatTemplate.BuiltIn(format).Source : tokenizer.ChatTemplate ?? "";
            var paths = result.GetValue(files)!.Select(f => f.FullName).ToArray();
            var manifest = NemoJsonl.Import(paths, result.GetValue(output)!.FullName, TeacherFingerprints.Compute(teacherDir), tokenizer.Fingerprint, template);
            result.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"distill convert: {manifest.ExampleCount} examples, K = {manifest.TopK}, in {manifest.Shards.Count} shard(s) at {result.GetValue(output)!.FullName}"));
            return 0;
        }));
        return command;
    }
}
