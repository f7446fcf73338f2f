using System.CommandLine;
using System.Text.Json.Nodes;
using Distill.Cli;
using Distill.Synthetic;

namespace Distill.Tests.Serving;

/// <summary>Self-instruct against <c>distill serve</c> on loopback over the tiny teacher (context 128: short seeds, no header).</summary>
public sealed class SelfInstructServeTests(ServerFixture f) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-self-instruct-serve-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Seeds()
    {
        var path = Path.Combine(_root, "seeds.jsonl");
        File.WriteAllLines(path, new[] { "Ping bc on", "Hello xyz a", "Pong a bc" }.Select(t => new JsonObject { ["prompt"] = t }.ToJsonString()));
        return path;
    }

    private static List<JsonNode> Lines(string path) => [.. File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!)];

    [Fact]
    public async Task Self_Instruct_Through_The_Server_Should_Grow_Answer_And_Resume_Without_Asking_Again()
    {
        var options = new GenerateOptions
        {
            TeacherUrl = f.Server.BaseUrl.ToString(), Prompts = "unused", Output = Path.Combine(_root, "out.jsonl"), Temperature = 1, MaxNewTokens = 12,
            Seed = 3, Concurrency = 4, TimeoutSeconds = 30,
        };
        var si = new SelfInstructOptions { Seeds = Seeds(), Num = 4, FromSeeds = 2, FromGenerated = 1, MinWords = 1, MaxRequests = 40, Header = "" };

        var first = await SelfInstructRunner.RunAsync(options, si, null, default);
        var instructions = Lines(SelfInstructOptions.InstructionsPath(options.Output));
        var second = await SelfInstructRunner.RunAsync(options, si, null, default);

        Assert.True(first.Instructions > 0, "the random tiny teacher's replies yielded no instruction in 40 requests");
        Assert.Equal(first.Instructions, instructions.Count);
        Assert.Equal(instructions.Count, instructions.Select(i => (string)i["id"]!).Distinct().Count());
        Assert.Equal(first.RequestsTotal, first.Requests);
        var rejected = File.Exists(SelfInstructOptions.RejectedPath(options.Output)) ? Lines(SelfInstructOptions.RejectedPath(options.Output)) : [];
        Assert.Equal(first.Rejected + first.FailedRequests, rejected.Count);
        Assert.All(rejected, r => Assert.False(string.IsNullOrEmpty((string?)r["reason"])));
        var output = Lines(options.Output);
        Assert.Equal(instructions.Select(i => (string)i["id"]!).Order(), output.Select(o => (string)o["prompt_id"]!).Order());
        Assert.All(output, o => Assert.Equal(ServerFixture.Name, (string?)o["teacher"]));
        // The rerun has nothing left to do (when the first reached --num; else it stopped at the request limit, which also holds).
        Assert.Equal((0, 0, 0, instructions.Count), (second.Requests, second.Accepted, second.Responses.Done, second.Responses.Skipped));
    }

    [Fact]
    public void Cli_Self_Instruct_Should_Print_Both_Summaries_And_Refuse_Prompts_Beside_It()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { GenerateCommand.Create() };
        string[] common = ["generate", "--teacher-url", f.Server.BaseUrl.ToString(), "--out", Path.Combine(_root, "cli.jsonl"), "--max-new-tokens", "8", "--seed", "4"];

        var exit = root.Parse([.. common, "--self-instruct", Seeds(), "--num", "2", "--instruction-header", ""]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        var both = root.Parse([.. common, "--self-instruct", Seeds(), "--num", "2", "--prompts", Seeds()])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        var neither = root.Parse(common).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.True(exit == 0, error.ToString());
        Assert.Contains("distill generate --self-instruct: ", output.ToString());
        Assert.Contains("distill generate: ", output.ToString());
        Assert.Equal((1, 1), (both, neither));
        Assert.Contains("give one of --prompts and --self-instruct", error.ToString());
        Assert.Contains("give --prompts F.jsonl, or --self-instruct SEEDS.jsonl --num N", error.ToString());
    }
}
