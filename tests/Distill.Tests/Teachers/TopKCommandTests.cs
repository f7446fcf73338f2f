using System.CommandLine;
using Distill.Cli;
using Distill.LogitCache;

namespace Distill.Tests.Teachers;

public class TopKCommandTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { TopKCommand.Create(), ConvertCommand.Create(), InspectCommand.Create() };
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] TopK(TinyTeacher t, string output, params string[] extra) =>
        ["topk", "--teacher", t.Path, "--data", t.Data, "--out", output, "--top-k", "6", "--chat-format", TinyTeacher.ChatFormat, "--batch-tokens", "50", .. extra];

    [Fact]
    public void Topk_Then_Inspect_Should_Write_A_Cache_And_Print_Its_Statistics()
    {
        using var t = new TinyTeacher(conversations: 5);

        var (exit, output, error) = Run(TopK(t, t.Sub("cache"), "--logit-dtype", "bf16", "--dtype", "bf16"));

        Assert.True(exit == 0, error);
        Assert.Contains("5 examples computed", output, StringComparison.Ordinal);
        Assert.Contains("topk: 5/5 examples", output, StringComparison.Ordinal);
        using (var reader = LogitCacheReader.Open(t.Sub("cache")))
        {
            Assert.Equal(6, reader.TopK);
            Assert.Equal("bf16", reader.Manifest.LogitDType);
            Assert.Equal("bf16", reader.Manifest.ComputeDType);
        }

        var (inspectExit, inspect, _) = Run("inspect", t.Sub("cache"));

        Assert.Equal(0, inspectExit);
        Assert.Contains("examples          5", inspect, StringComparison.Ordinal);
        Assert.Contains("top-k             6", inspect, StringComparison.Ordinal);
        Assert.Contains("dtypes            teacher compute bf16, logits bf16", inspect, StringComparison.Ordinal);
        Assert.Contains($"data              {t.Data} (sha256 ", inspect, StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $", {new FileInfo(t.Data).Length:N0} bytes)"), inspect, StringComparison.Ordinal);
        Assert.Contains("batch tokens      50\n", inspect, StringComparison.Ordinal);
        Assert.Contains("top-k mass", inspect, StringComparison.Ordinal);
        var (_, json, _) = Run("inspect", t.Sub("cache"), "--json");
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(5, document.RootElement.GetProperty("examples").GetInt64());
        Assert.Equal("bf16", document.RootElement.GetProperty("logit_dtype").GetString());
        Assert.Equal("bf16", document.RootElement.GetProperty("compute_dtype").GetString());
    }

    [Fact]
    public void Nemo_Export_Then_Import_Should_Give_Back_The_Same_Rows()
    {
        using var t = new TinyTeacher(conversations: 5);
        Assert.Equal(0, Run(TopK(t, t.Sub("cache"))).Exit);

        var (exportExit, exported, exportError) = Run("convert", "nemo-export", "--cache", t.Sub("cache"), "--out", t.Sub("nemo"), "--chunks", "2", "--teacher", t.Path);
        Assert.True(exportExit == 0, exportError);
        Assert.Contains("2 chunk(s) of 3 lines; 1 repeated line(s)", exported, StringComparison.Ordinal);
        var (importExit, _, importError) = Run("convert", "nemo-import", "--files", Path.Combine(t.Sub("nemo"), "kd_0.jsonl"),
            Path.Combine(t.Sub("nemo"), "kd_1.jsonl"), "--out", t.Sub("back"), "--teacher", t.Path, "--chat-format", TinyTeacher.ChatFormat);
        Assert.True(importExit == 0, importError);

        using var original = LogitCacheReader.Open(t.Sub("cache"));
        using var back = LogitCacheReader.Open(t.Sub("back"));
        Assert.Equal(original.ExampleCount, back.ExampleCount);
        Assert.Equal(original.Manifest.Teacher, back.Manifest.Teacher);
        Assert.Equal(original.Manifest.TokenizerFingerprint, back.Manifest.TokenizerFingerprint);
        Assert.Equal(original.Manifest.ChatTemplate, back.Manifest.ChatTemplate);
        string[] chunks = [Path.Combine(t.Sub("nemo"), "kd_0.jsonl"), Path.Combine(t.Sub("nemo"), "kd_1.jsonl")];
        Assert.Equal(string.Join(Path.PathSeparator, chunks), back.Manifest.Data.Path);
        Assert.Equal(chunks.Sum(c => new FileInfo(c).Length), back.Manifest.Data.Size);
        Assert.Null(back.Manifest.ComputeDType);
        for (var i = 0; i < original.ExampleCount; i++)
        {
            var a = original.Example(i).ToExample();
            var b = back.Example(i).ToExample();
            Assert.Equal(a.InputIds, b.InputIds);
            Assert.Equal(a.LossMask, b.LossMask);
            Assert.Equal(a.TopKIds, b.TopKIds);
            Assert.Equal(a.TopKLogits, b.TopKLogits);
            Assert.Equal(a.LogSumExp, b.LogSumExp);
        }
    }

    [Fact]
    public void Sharded_Runs_Then_Merge_Should_Make_The_Cache_Whole()
    {
        using var t = new TinyTeacher(conversations: 3);

        var first = Run(TopK(t, t.Sub("cache"), "--shard", "0/2"));
        var (inspectExit, _, inspectError) = Run("inspect", t.Sub("cache"));
        var second = Run(TopK(t, t.Sub("cache"), "--shard", "1/2"));
        var (mergeExit, merged, _) = Run("topk", "merge", t.Sub("cache"));

        Assert.Equal(0, first.Exit);
        Assert.Contains("slice done", first.Output, StringComparison.Ordinal);
        Assert.Equal(1, inspectExit);
        Assert.Contains("part manifests", inspectError, StringComparison.Ordinal);
        Assert.Equal(0, second.Exit);
        Assert.Contains("complete, 3 examples", second.Output, StringComparison.Ordinal);
        Assert.Equal(0, mergeExit); // already merged by the last slice: merge is a no-op
        Assert.Contains("3 examples", merged, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_Should_Be_One_Line_And_A_Non_Zero_Exit()
    {
        using var t = new TinyTeacher(conversations: 2);

        var missing = Run("topk", "--teacher", t.Sub("nope"), "--data", t.Data, "--out", t.Sub("cache"));
        var badShard = Run(TopK(t, t.Sub("cache"), "--shard", "2/2"));
        var noPad = Run("convert", "nemo-export", "--cache", t.Sub("cache"), "--out", t.Sub("nemo"));

        Assert.Equal(1, missing.Exit);
        Assert.Single(missing.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("distill topk: ", missing.Error, StringComparison.Ordinal);
        Assert.Equal(1, badShard.Exit);
        Assert.Contains("2/2", badShard.Error, StringComparison.Ordinal);
        Assert.Equal(1, noPad.Exit);
        Assert.Contains("--pad-id", noPad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Examples_Longer_Than_The_Teachers_Context_Should_Be_Cut_And_Counted()
    {
        // TinyTeacher's max_position_embeddings is 128; this answer is ~600 tokens.
        var answer = string.Join(' ', Enumerable.Repeat("Pong", 600));
        using var t = new TinyTeacher(2, $$"""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "{{answer}}"}]}""");

        var (exit, _, error) = Run(TopK(t, t.Sub("cache")));

        Assert.True(exit == 0, error);
        Assert.Contains("distill topk: 1 example(s) were longer than --max-seq-len 128 tokens and were cut to it", error, StringComparison.Ordinal);
        using var reader = LogitCacheReader.Open(t.Sub("cache"));
        Assert.Equal(128, reader.Example(2).InputIds.Length);
    }

    [Fact]
    public void Skip_Bad_With_Every_Line_Bad_Should_Still_List_The_Lines()
    {
        using var t = new TinyTeacher(0, "not json", "{\"messages\": []}");

        var (exit, _, error) = Run(TopK(t, t.Sub("cache"), "--skip-bad"));

        Assert.Equal(1, exit);
        Assert.Contains("no usable conversation; skipped 2 bad line(s):", error, StringComparison.Ordinal);
        Assert.Contains($"{t.Data}:1: invalid JSON", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(t.Sub("cache")));   // a failed first run leaves no empty folder
    }
}
