using System.CommandLine;
using System.Text.Json;
using Distill.Cli;
using Distill.Tests.Teachers;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Evaluation;

public sealed class EvalCommandTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { EvalCommand.Create(), TopKCommand.Create() };
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] Eval(TinyTeacher t, params string[] extra) =>
        ["eval", "--model", t.Path, "--data", t.Data, "--chat-format", TinyTeacher.ChatFormat, "--batch-size", "3", .. extra];

    [Fact]
    public void Eval_Json_Should_Report_The_Naive_Loss_And_Accuracy()
    {
        using var t = new TinyTeacher(conversations: 4);
        using var model = t.Load();
        var examples = t.Examples().Select(e => new TrainingExample(e.InputIds, e.LossMask)).ToList();
        var targets = NaiveMetrics.Targets(model, examples).ToList();

        var (exit, output, error) = Run(Eval(t, "--json"));

        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal(4, root.GetProperty("examples").GetInt64());
        Assert.Equal(targets.Count, root.GetProperty("tokens").GetInt64());
        Assert.Equal(targets.Average(x => -NaiveMetrics.LogSoftmax(x.Row)[x.Label]), root.GetProperty("loss").GetDouble(), 1e-5);
        Assert.Equal(targets.Average(x => NaiveMetrics.ArgMax(x.Row) == x.Label ? 1.0 : 0.0), root.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("kl").ValueKind);
    }

    [Fact]
    public void Eval_With_The_Model_As_Teacher_Should_Print_Zero_Kl_And_Full_Agreement()
    {
        using var t = new TinyTeacher(conversations: 3);

        var (exit, output, error) = Run(Eval(t, "--teacher", t.Path));

        Assert.True(exit == 0, error);
        Assert.Matches(@"kl \(full\)\s+0\.0000", output);
        Assert.Matches(@"top-1 agreement\s+1\.0000", output);
    }

    [Fact]
    public void Eval_With_A_Cache_Of_The_Same_Data_Should_Report_TopK_Kl()
    {
        using var t = new TinyTeacher(conversations: 4);
        Assert.Equal(0, Run("topk", "--teacher", t.Path, "--data", t.Data, "--out", t.Sub("cache"), "--top-k", "6", "--chat-format", TinyTeacher.ChatFormat).Exit);

        var (exit, output, error) = Run(Eval(t, "--cache", t.Sub("cache"), "--json"));

        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(output);
        Assert.Equal("top-6", document.RootElement.GetProperty("kl_support").GetString());
        // The cache's teacher is the model itself, so both renormalised top-K distributions are the same.
        Assert.Equal(0.0, document.RootElement.GetProperty("kl").GetDouble(), 1e-5);
        Assert.Equal(1.0, document.RootElement.GetProperty("top1_agreement").GetDouble());
    }

    [Fact]
    public void Eval_With_A_Corrupt_Cache_Should_Fail_Unless_No_Verify()
    {
        using var t = new TinyTeacher(conversations: 3);
        Assert.Equal(0, Run("topk", "--teacher", t.Path, "--data", t.Data, "--out", t.Sub("cache"), "--top-k", "6", "--chat-format", TinyTeacher.ChatFormat).Exit);
        var shard = Directory.GetFiles(t.Sub("cache"), "shard-*.safetensors").Single();
        var manifest = Path.Combine(t.Sub("cache"), "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        json["shards"]![0]!["sha256"] = new string('0', 64);   // the shard is intact, the checksum is not its own
        File.WriteAllText(manifest, json.ToJsonString());

        var (exit, _, error) = Run(Eval(t, "--cache", t.Sub("cache")));
        var unverified = Run(Eval(t, "--cache", t.Sub("cache"), "--no-verify"));

        Assert.Equal(1, exit);
        Assert.Contains($"{shard}: checksum mismatch", error, StringComparison.Ordinal);
        Assert.True(unverified.Exit == 0, unverified.Error);
    }

    [Fact]
    public void Eval_With_A_Cache_Of_Other_Data_Should_Fail_With_One_Line()
    {
        using var t = new TinyTeacher(conversations: 4);
        using var other = new TinyTeacher(conversations: 3);
        Assert.Equal(0, Run("topk", "--teacher", t.Path, "--data", other.Data, "--out", t.Sub("cache"), "--top-k", "6", "--chat-format", TinyTeacher.ChatFormat).Exit);

        var (exit, output, error) = Run(Eval(t, "--cache", t.Sub("cache")));

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("distill eval: ", error, StringComparison.Ordinal);
        Assert.Contains("other data", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Eval_With_Teacher_And_Cache_Should_Fail_With_One_Line()
    {
        using var t = new TinyTeacher(conversations: 2);

        var (exit, _, error) = Run(Eval(t, "--teacher", t.Path, "--cache", t.Sub("cache")));

        Assert.Equal(1, exit);
        Assert.Equal("distill eval: give --teacher or --cache, not both", error.TrimEnd());
    }

    [Fact]
    public void Eval_Should_Fail_With_One_Line_When_The_Data_Is_Missing()
    {
        using var t = new TinyTeacher(conversations: 2);

        var (exit, _, error) = Run("eval", "--model", t.Path, "--data", t.Sub("missing.jsonl"), "--chat-format", TinyTeacher.ChatFormat);

        Assert.Equal(1, exit);
        Assert.Contains("missing.jsonl", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Eval_Generate_Should_Print_Generation_Scores()
    {
        using var t = new TinyTeacher(conversations: 2);

        var (exit, output, error) = Run(Eval(t, "--generate", "--max-new-tokens", "3"));

        Assert.True(exit == 0, error);
        Assert.Matches(@"generated\s+2", output);
        Assert.Contains("exact match", output, StringComparison.Ordinal);
    }
}
