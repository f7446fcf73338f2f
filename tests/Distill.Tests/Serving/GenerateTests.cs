using System.CommandLine;
using System.Text.Json.Nodes;
using Distill.Cli;
using Distill.Synthetic;
using Distill.Text.Conversations;
using static Distill.Tests.Serving.FaultProxy;

namespace Distill.Tests.Serving;

public sealed class GenerateTests(ServerFixture f) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-generate-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Sub(string name) => Path.Combine(_root, name);

    private static readonly string[] Words = ["Hello", "Pong", "a", "bc", "Ping", "xyz", "on"];

    // Every layout a prompts file may use: messages without an answer, messages ending in an answer (dropped),
    // {"prompt": ...}, NeMo, and a line with its own id.
    private string Prompts(int count, params string[] extra)
    {
        var lines = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 1 + i % 3).Select(w => Words[(i + w * 2) % Words.Length]));
            lines.Add((i % 4) switch
            {
                0 => new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) }.ToJsonString(),
                1 => new JsonObject
                {
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text },
                        new JsonObject { ["role"] = "assistant", ["content"] = "reference answer" }),
                }.ToJsonString(),
                2 => new JsonObject { ["prompt"] = text }.ToJsonString(),
                _ => new JsonObject { ["id"] = $"nemo-{i}", ["conversations"] = new JsonArray(new JsonObject { ["from"] = "User", ["value"] = text }) }.ToJsonString(),
            });
        }
        lines.AddRange(extra);
        var path = Sub("prompts.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private GenerateOptions Remote(string prompts, Uri url, params Action<GenerateOptions>[] _) => new()
    {
        TeacherUrl = url.ToString(), Prompts = prompts, Output = Sub("out.jsonl"), N = 1, Temperature = 0.9, MaxNewTokens = 6, Seed = 42,
        Concurrency = 3, TimeoutSeconds = 30, MaxAttempts = 8, BackoffSeconds = 0.01, MaxBackoffSeconds = 2,
    };

    private static List<JsonNode> Lines(string path) => File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).ToList();

    private static void AssertEachPromptOnce(string output, int prompts, int n = 1)
    {
        var lines = Lines(output);
        Assert.Equal(prompts * n, lines.Count);
        Assert.All(lines.GroupBy(l => (string)l["prompt_id"]!), g => Assert.Equal(Enumerable.Range(0, n), g.Select(l => (int)l["choice"]!).Order()));
    }

    [Fact]
    public async Task Local_Teacher_Should_Write_Messages_Lines_That_Training_Reads()
    {
        var prompts = Prompts(5);
        var options = new GenerateOptions
        {
            Teacher = f.Tiny.Path, ChatFormat = "chatml", Prompts = prompts, Output = Sub("out.jsonl"), N = 2, MaxNewTokens = 5, Seed = 1, Concurrency = 4,
        };

        var summary = await GenerateRunner.RunAsync(options, null, default);

        Assert.Equal((5, 0, 0), (summary.Done, summary.Failed, summary.Skipped));
        AssertEachPromptOnce(options.Output, 5, n: 2);
        var first = Lines(options.Output)[0];
        Assert.Equal("teacher", (string?)first["teacher"]);
        Assert.Contains((string?)first["finish_reason"], new[] { "stop", "length" });
        Assert.True((int)first["usage"]!["prompt_tokens"]! > 0);
        Assert.Equal(2, (int)first["sampling"]!["n"]!);
        // The prompt with a reference answer is asked without it.
        Assert.DoesNotContain(Lines(options.Output), l => l["messages"]!.AsArray().Any(m => (string?)m!["content"] == "reference answer"));
        var examples = f.Tiny.Chat().BuildAll(ConversationReader.Open(options.Output).Read()).ToList();
        Assert.Equal(10, examples.Count);
    }

    [Fact]
    public async Task Greedy_Answers_Should_Be_The_Same_From_The_Folder_And_From_Its_Server()
    {
        var prompts = Prompts(4);
        var local = new GenerateOptions
        {
            Teacher = f.Tiny.Path, ChatFormat = "chatml", Prompts = prompts, Output = Sub("local.jsonl"), Temperature = 0, MaxNewTokens = 6, Concurrency = 4,
        };
        var remote = Remote(prompts, f.Server.BaseUrl) with { Output = Sub("remote.jsonl"), Temperature = 0, Seed = null };

        await GenerateRunner.RunAsync(local, null, default);
        await GenerateRunner.RunAsync(remote, null, default);

        static Dictionary<string, string> Answers(string path) =>
            Lines(path).ToDictionary(l => (string)l["prompt_id"]!, l => (string)l["messages"]!.AsArray()[^1]!["content"]!);
        Assert.Equal(Answers(local.Output).OrderBy(a => a.Key), Answers(remote.Output).OrderBy(a => a.Key));
    }

    [Fact]
    public async Task Remote_Teacher_Through_Faults_Should_Answer_Every_Prompt_Exactly_Once_And_Keep_The_Key_Out_Of_Files()
    {
        var keyEnv = "DISTILL_TEST_KEY_" + Guid.NewGuid().ToString("N");
        var key = "sk-test-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(keyEnv, key);
        await using var proxy = await FaultProxy.StartAsync(f.Server.BaseUrl,
            Fault.ServerError, Fault.TooManyRequests, Fault.Reset, Fault.Truncated, Fault.BadGateway, Fault.Slow);
        // The slow reply takes 2 s longer than the timeout; on a loaded machine an honest reply may time out too, so
        // the counts below allow extra attempts as long as every request is one attempt of exactly one prompt.
        var options = Remote(Prompts(6), proxy.Address) with { ApiKeyEnv = keyEnv, TimeoutSeconds = 2 };

        var summary = await GenerateRunner.RunAsync(options, null, default);

        Assert.Equal((6, 0, 0), (summary.Done, summary.Failed, summary.Skipped));
        Assert.Equal(0, proxy.FaultsLeft);
        Assert.True(proxy.ChatRequests >= 12, $"{proxy.ChatRequests} requests");
        AssertEachPromptOnce(options.Output, 6);
        Assert.Equal(proxy.ChatRequests, Lines(options.Output).Sum(l => (int)l["attempts"]!));
        Assert.All(Lines(options.Output), l => Assert.Equal(ServerFixture.Name, (string?)l["teacher"]));
        Assert.All(proxy.Authorizations, a => Assert.Equal("Bearer " + key, a));
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(key, File.ReadAllText(file));
        Environment.SetEnvironmentVariable(keyEnv, null);
    }

    [Fact]
    public async Task Rerun_After_A_Torn_Output_Should_Duplicate_And_Lose_Nothing()
    {
        var prompts = Prompts(6);
        var options = Remote(prompts, f.Server.BaseUrl) with { N = 2 };
        await GenerateRunner.RunAsync(options, null, default);
        var full = File.ReadAllLines(options.Output);
        // A kill in the middle of the third prompt's write: two whole prompts, one response of the third and half a line.
        File.WriteAllText(options.Output, string.Join("\n", full.Take(5)) + "\n" + full[5][..20]);

        var summary = await GenerateRunner.RunAsync(options, null, default);

        Assert.Equal((4, 0, 2), (summary.Done, summary.Failed, summary.Skipped));
        AssertEachPromptOnce(options.Output, 6, n: 2);
        var rerun = File.ReadAllLines(options.Output);
        Assert.Equal(full.Take(4), rerun.Take(4));
        // Seeds derive from the prompt ids, so the answers are the first run's whatever the order.
        Assert.Equal(string.Join("\n", full.Select(WithoutAttempts).Order()), string.Join("\n", rerun.Select(WithoutAttempts).Order()));
        var third = await GenerateRunner.RunAsync(options, null, default);
        Assert.Equal((0, 0, 6), (third.Done, third.Failed, third.Skipped));
    }

    private static string WithoutAttempts(string line)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        node.Remove("attempts");
        return node.ToJsonString();
    }

    [Fact]
    public async Task Failed_Prompts_Should_Be_Recorded_Skipped_On_Rerun_And_Retried_With_Retry_Failed()
    {
        var prompts = Prompts(3, new JsonObject { ["prompt"] = "say " + Poison }.ToJsonString());
        await using var proxy = await FaultProxy.StartAsync(f.Server.BaseUrl);
        var options = Remote(prompts, proxy.Address);

        var first = await GenerateRunner.RunAsync(options, null, default);
        var second = await GenerateRunner.RunAsync(options, null, default);
        proxy.Rejecting = false;
        var third = await GenerateRunner.RunAsync(options with { RetryFailed = true }, null, default);

        Assert.Equal((3, 1), (first.Done, first.Failed));
        Assert.Contains("poisoned prompt", File.ReadAllText(options.FailedPath));
        Assert.Equal((0, 0, 3, 1), (second.Done, second.Failed, second.Skipped, second.FailedEarlier));
        Assert.Equal((1, 0, 3), (third.Done, third.Failed, third.Skipped));
        AssertEachPromptOnce(options.Output, 4);
    }

    [Fact]
    public async Task A_Server_That_Keeps_Answering_Garbage_Should_Leave_The_Prompt_Failed_With_The_Reason()
    {
        await using var proxy = await FaultProxy.StartAsync(f.Server.BaseUrl, Fault.Truncated, Fault.Truncated, Fault.Truncated);
        var options = Remote(Prompts(1), proxy.Address) with { MaxAttempts = 3 };

        var summary = await GenerateRunner.RunAsync(options, null, default);

        Assert.Equal((0, 1), (summary.Done, summary.Failed));
        var failure = Lines(options.FailedPath).Single();
        Assert.Contains("malformed response", (string?)failure["error"]);
        Assert.Equal(3, (int)failure["attempts"]!);
        Assert.False(File.Exists(options.Output) && new FileInfo(options.Output).Length > 0);
    }

    [Fact]
    public async Task Filters_Should_Move_Rejected_Responses_Aside_And_A_Rerun_Should_Repeat_Nothing()
    {
        var options = Remote(Prompts(5), f.Server.BaseUrl) with { N = 3, MaxNewTokens = 8, MaxChars = 12, Accept = "[a-z]" };

        var first = await GenerateRunner.RunAsync(options, null, default);
        var second = await GenerateRunner.RunAsync(options, null, default);

        var kept = File.Exists(options.Output) ? Lines(options.Output) : [];
        var rejected = File.Exists(options.RejectedPath) ? Lines(options.RejectedPath) : [];
        Assert.Equal(15, kept.Count + rejected.Count);
        Assert.Equal(rejected.Count, first.Rejected);
        Assert.All(kept, l => Assert.InRange(((string)l["messages"]!.AsArray()[^1]!["content"]!).Length, 0, 12));
        Assert.All(kept.GroupBy(l => (string)l["prompt_id"]!), g => Assert.Equal(g.Count(), (int)g.First()["group_size"]!));
        Assert.All(rejected, r => Assert.False(string.IsNullOrEmpty((string?)r["reason"])));
        Assert.Equal((5, 0, 0), (first.Done, first.Failed, first.Skipped));
        Assert.Equal((0, 0, 5, 0), (second.Done, second.Failed, second.Skipped, second.Rejected));
    }

    [Fact]
    public async Task A_Prompt_With_Every_Response_Rejected_Should_Count_As_Done()
    {
        var options = Remote(Prompts(3), f.Server.BaseUrl) with { N = 2, Accept = "(?!)" }; // matches nothing

        var first = await GenerateRunner.RunAsync(options, null, default);
        var second = await GenerateRunner.RunAsync(options, null, default);

        Assert.Equal(6, first.Rejected);
        Assert.Equal(0, new FileInfo(options.Output).Length);
        Assert.Equal(3, Lines(options.RejectedPath).Count(l => (bool?)l["all_rejected"] == true) / 2);
        Assert.Equal((0, 3), (second.Done, second.Skipped));
    }

    [Fact]
    public void Cli_Generate_Should_Print_Done_Failed_Skipped()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { GenerateCommand.Create() };

        var exit = root.Parse(["generate", "--teacher-url", f.Server.BaseUrl.ToString(), "--prompts", Prompts(2), "--out", Sub("cli.jsonl"),
            "--max-new-tokens", "4", "--seed", "3"]).Invoke(new InvocationConfiguration { Output = output, Error = error });

        Assert.True(exit == 0, error.ToString());
        Assert.Contains("2 done, 0 failed, 0 skipped", output.ToString());
        AssertEachPromptOnce(Sub("cli.jsonl"), 2);
    }

    [Fact]
    public void Cli_Generate_Without_A_Teacher_Should_Fail_With_One_Line()
    {
        var error = new StringWriter();
        var root = new RootCommand { GenerateCommand.Create() };

        var exit = root.Parse(["generate", "--prompts", Prompts(1), "--out", Sub("x.jsonl")]).Invoke(new InvocationConfiguration { Error = error, Output = new StringWriter() });

        Assert.Equal(1, exit);
        Assert.Contains("exactly one of --teacher", error.ToString());
    }
}
