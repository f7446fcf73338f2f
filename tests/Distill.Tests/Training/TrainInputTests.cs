using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using Distill.Cli;
using Distill.Models;
using Distill.Tests.Text.Conversations;
using Distill.Training;

namespace Distill.Tests.Training;

/// <summary>distill train on hostile JSONL (too long, not UTF-8) and under SIGTERM, through the command as a user runs it.</summary>
public sealed partial class TrainInputTests : IDisposable
{
    private const string Short = """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello Pong"}]}""";
    private readonly TempFolder _folder = new();
    private readonly TinyModelFolder _tokenizer = new();
    private readonly string _student;

    public TrainInputTests()
    {
        // The tiny tokenizer's ids reach 409, so the student's vocabulary is 416; its max_position_embeddings is 64.
        _student = TrainingTestData.StudentFolder(_folder.Sub("student"), vocab: 416);
        foreach (var name in HfModelFolder.TokenizerFiles.Where(n => File.Exists(Path.Combine(_tokenizer.Path, n))))
            File.Copy(Path.Combine(_tokenizer.Path, name), Path.Combine(_student, name));
    }

    public void Dispose()
    {
        _folder.Dispose();
        _tokenizer.Dispose();
    }

    private (int Exit, string Output, string Error) Train(string data, TextWriter? output, params string[] extra) =>
        Train(data, output, new StringWriter(), extra);

    private (int Exit, string Output, string Error) Train(string data, TextWriter? output, StringWriter error, params string[] extra)
    {
        output ??= new StringWriter();
        var exit = new RootCommand { TrainCommand.Create() }.Parse(
            ["train", "--student", _student, "--data", data, "--out", _folder.Sub("out"), "--global-batch", "2",
             "--micro-batch", "1", "--set", "chat_format=chatml", .. extra.Contains("--steps") ? extra : [.. extra, "--steps", "1"]])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString()!, error.ToString());
    }

    private string Jsonl(params byte[][] lines)
    {
        var path = _folder.Sub($"data-{Guid.NewGuid():N}.jsonl");
        File.WriteAllBytes(path, lines.SelectMany(l => l.Concat("\n"u8.ToArray())).ToArray());
        return path;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void An_Example_Longer_Than_The_Students_Context_Should_Be_Cut_And_Counted()
    {
        var answer = string.Join(' ', Enumerable.Repeat("Pong", 300));   // ~300 tokens against max_position_embeddings 64
        var data = Jsonl(Utf8(Short), Utf8($$"""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "{{answer}}"}]}"""));

        var (exit, output, error) = Train(data, null, "--supervise", "last");

        Assert.True(exit == 0, error);
        Assert.Contains("  supervise: last\n", File.ReadAllText(Path.Combine(_folder.Sub("out"), TrainConfigYaml.ResolvedFileName)), StringComparison.Ordinal);
        Assert.Contains($"{data}: 1 of 2 examples were longer than max_seq_len = 64 tokens and were cut to it", output, StringComparison.Ordinal);
        using var source = TrainingData.Open(data, new DataOptions(ChatFormat: "chatml"), _student);
        Assert.Equal(64, source.Example(1).InputIds.Length);
    }

    [Fact]
    public void Max_Seq_Len_Leaving_No_Supervised_Token_Should_Name_The_Line_Or_Skip_It()
    {
        var data = Jsonl(Utf8(Short), Utf8("""{"messages": [{"role": "user", "content": "Hello Hello Hello Hello Hello Hello"}, {"role": "assistant", "content": "Pong"}]}"""));

        var (exit, _, error) = Train(data, null, "--max-seq-len", "24");

        Assert.Equal(1, exit);
        Assert.True(error.Contains($"{data}:2: no supervised token left after truncation to 24 tokens", StringComparison.Ordinal), error);
        var (skipExit, output, skipError) = Train(data, null, "--max-seq-len", "24", "--skip-bad", "--overwrite");
        Assert.True(skipExit == 0, skipError);
        Assert.Contains($"{data}: skipped 1 bad line(s):", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Line_That_Is_Not_Utf8_Should_Be_An_Error_Naming_File_And_Line_Or_Be_Skipped()
    {
        var bad = Utf8("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello X"}]}""");
        bad[Array.IndexOf(bad, (byte)'X')] = 0xC3;   // a lead byte with no continuation byte
        var data = Jsonl(Utf8(Short), bad, Utf8(Short));

        var (exit, _, error) = Train(data, null);

        Assert.Equal(1, exit);
        Assert.Equal($"distill train: {data}:2: not valid UTF-8 (byte 90 of the line)", error.Trim());
        var (skipExit, output, skipError) = Train(data, null, "--skip-bad");
        Assert.True(skipExit == 0, skipError);
        Assert.Contains($"{data}:2: not valid UTF-8", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Pre_Tokenized_Lines_Should_Be_Cut_To_The_Students_Context_And_Bad_Ones_Skipped_With_Skip_Bad()
    {
        var ids = string.Join(", ", Enumerable.Range(0, 100).Select(i => 3 + i % 40));
        var data = Jsonl(Utf8("{\"input_ids\": [5, 6, 7]}"), Utf8($"{{\"input_ids\": [{ids}]}}"), Utf8("{\"input_ids\": []}"));

        var error = Assert.Throws<InvalidDataException>(() => TrainingData.Open(data, new DataOptions(), _student));
        using var source = TrainingData.Open(data, new DataOptions(SkipBad: true), _student);

        Assert.Equal($"{data}:3: input_ids is empty", error.Message);
        Assert.Equal(2, source.Count);
        Assert.Equal(64, source.Example(1).InputIds.Length);   // the student's max_position_embeddings
        var notes = ((InMemoryExampleSource)source).Notes;
        Assert.Contains(notes, n => n.Contains("1 of 2 examples were longer than max_seq_len = 64", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains($"{data}:3: input_ids is empty", StringComparison.Ordinal));
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [Fact]
    public void Sigterm_Should_Checkpoint_The_Last_Step_And_Exit_143()
    {
        if (!OperatingSystem.IsLinux()) return;
        var data = Jsonl(Utf8(Short), Utf8(Short));
        // SIGTERM to this very process once step 1 is logged: only the command's handler stands between it and an exit.
        // The handler runs on another thread; the step waits until it has announced itself, so the test cannot race it.
        var announced = new SignalOnLine("distill train: SIGTERM", () => { });
        var output = new SignalOnLine("step 1/", () =>
        {
            Assert.Equal(0, Kill(Environment.ProcessId, 15));
            Assert.True(announced.Seen.Wait(TimeSpan.FromSeconds(30)), "no SIGTERM handler ran");
        });

        var (exit, _, error) = Train(data, output, announced, "--steps", "5");

        Assert.True(exit == 143, error);
        Assert.Contains("distill train: SIGTERM received; saving a checkpoint", error, StringComparison.Ordinal);
        Assert.Contains("interrupted;", error, StringComparison.Ordinal);
        var checkpoint = Assert.Single(Checkpoints.List(_folder.Sub("out")));
        Assert.Equal(1, checkpoint.Step);   // the step that was running finished; no later step started
    }

    /// <summary>A writer that runs an action once, when a line starting with a prefix is written, and then sets <see cref="Seen"/>.</summary>
    private sealed class SignalOnLine(string prefix, Action action) : StringWriter
    {
        public ManualResetEventSlim Seen { get; } = new();

        public override void WriteLine(string? value)
        {
            lock (this) base.WriteLine(value);
            if (Seen.IsSet || value?.StartsWith(prefix, StringComparison.Ordinal) != true) return;
            action();
            Seen.Set();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) Seen.Dispose();
            base.Dispose(disposing);
        }
    }
}
