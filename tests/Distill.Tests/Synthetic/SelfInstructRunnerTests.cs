using System.Text.Json.Nodes;
using Distill.Synthetic;
using Distill.Text;

namespace Distill.Tests.Synthetic;

/// <summary>
/// The self-instruct rounds with a scripted teacher, whose replies are a function of the request's seed, so the tests
/// know what each request brings: one new instruction of five words drawn by the seed, a one-word line, a copy of the
/// prompt's first example and a near-copy of its own first line.
/// </summary>
public sealed class SelfInstructRunnerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-self-instruct-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly string[] Vocabulary =
        [.. "river mountain cloud number story poem letter recipe colour planet garden music city bridge ocean forest engine window market train"
            .Split(' ')];

    private sealed class ScriptedTeacher(Action<int>? onCall = null) : IChatTeacher
    {
        private int _calls;

        public int Calls => _calls;

        public string Name => "scripted";

        public Task<TeacherReply> AnswerAsync(IReadOnlyList<ChatMessage> messages, TeacherSampling sampling, CancellationToken cancel)
        {
            onCall?.Invoke(Interlocked.Increment(ref _calls));
            cancel.ThrowIfCancellationRequested();
            var prompt = messages[^1].Content;
            string text;
            if (!prompt.StartsWith(SelfInstructOptions.DefaultHeader, StringComparison.Ordinal)) text = "Answer to " + prompt;
            else
            {
                var seed = (ulong)sampling.Seed!.Value;
                var words = Enumerable.Range(0, 5).Select(i => Vocabulary[(int)((seed >> (8 * i)) % (ulong)Vocabulary.Length)]);
                var fresh = "Describe " + string.Join(' ', words);
                var first = prompt.Split('\n').First(l => l.StartsWith("1. ", StringComparison.Ordinal))[3..];
                text = $"Here you are:\n7. {fresh}\n8. Ping\n9. {first}\n10. {fresh} again";
            }
            return Task.FromResult(new TeacherReply([new TeacherChoice(text, "stop", null)], null, null, 1));
        }

        public void Dispose()
        {
        }
    }

    private string Seeds()
    {
        var path = Path.Combine(_root, "seeds.jsonl");
        if (!File.Exists(path))
        {
            File.WriteAllLines(path, new[] { "Give three tips for staying healthy.", "Translate the sentence into French.", "Write a haiku about autumn leaves.",
                "Explain how a rainbow forms.", "List five fruits that are red." }.Select(t => new JsonObject { ["instruction"] = t }.ToJsonString()));
        }
        return path;
    }

    private (GenerateOptions, SelfInstructOptions) Options(string name, int num) =>
        (new GenerateOptions { TeacherUrl = "http://127.0.0.1:9/", Prompts = "unused", Output = Path.Combine(_root, name, "out.jsonl"), Seed = 5, Concurrency = 3 },
         new SelfInstructOptions { Seeds = Seeds(), Num = num, FromSeeds = 3, FromGenerated = 2 });

    private static List<JsonNode> Lines(string path) => [.. File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!)];

    [Fact]
    public async Task Run_Should_Grow_Num_Instructions_Drop_The_Rest_With_Reasons_And_Answer_Each_Once()
    {
        var (options, si) = Options("a", 7);

        var summary = await SelfInstructRunner.RunAsync(options, si, new ScriptedTeacher(), null, default);

        var instructions = Lines(SelfInstructOptions.InstructionsPath(options.Output));
        Assert.Equal(7, instructions.Count);
        Assert.Equal((7, 7, 0), (summary.Instructions, summary.Accepted, summary.FailedRequests));
        var texts = instructions.Select(l => (string)l["prompt"]!).ToList();
        var seeds = InstructionPool.ReadSeeds(si.Seeds).Select(s => s.Text).ToList();
        // Each accepted instruction is within the threshold of every seed and of every instruction accepted before it.
        for (var i = 0; i < texts.Count; i++)
            Assert.All(seeds.Concat(texts.Take(i)), other => Assert.True(RougeL.F(texts[i], other) <= 0.7, $"{texts[i]} / {other}"));
        var rejected = Lines(SelfInstructOptions.RejectedPath(options.Output));
        Assert.Equal(summary.Rejected, rejected.Count);
        Assert.Contains(rejected, r => (string?)r["reason"] == "1 words, fewer than 4" && (string?)r["prompt"] == "Ping");
        Assert.Contains(rejected, r => ((string)r["reason"]!).StartsWith("near-duplicate: ROUGE-L F 1.000 > 0.7 against seed-", StringComparison.Ordinal));
        Assert.Contains(rejected, r => ((string)r["reason"]!).StartsWith("near-duplicate: ROUGE-L F 0.923 > 0.7 against si-", StringComparison.Ordinal));
        // The responses: one per instruction, the prompt as the user turn.
        var output = Lines(options.Output);
        Assert.Equal(instructions.Select(i => (string)i["id"]!).Order(), output.Select(o => (string)o["prompt_id"]!).Order());
        Assert.All(output, o => Assert.Equal("Answer to " + (string)o["messages"]![0]!["content"]!, (string)o["messages"]![1]!["content"]!));
        Assert.Equal((7, 0), (summary.Responses.Done, summary.Responses.Failed));
    }

    [Fact]
    public async Task A_Run_Killed_Mid_Growth_Then_Rerun_Should_End_As_An_Uninterrupted_Run()
    {
        var (whole, si) = Options("whole", 9);
        var (broken, _) = Options("broken", 9);
        await SelfInstructRunner.RunAsync(whole, si, new ScriptedTeacher(), null, default);

        using var kill = new CancellationTokenSource();
        var dying = new ScriptedTeacher(call => { if (call == 5) kill.Cancel(); }); // in the second round of three requests
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SelfInstructRunner.RunAsync(broken, si, dying, null, kill.Token));
        Assert.True(File.Exists(SelfInstructOptions.StatePath(broken.Output)), "the first round was recorded");
        var resumed = await SelfInstructRunner.RunAsync(broken, si, new ScriptedTeacher(), null, default);

        Assert.Equal(File.ReadAllText(SelfInstructOptions.InstructionsPath(whole.Output)), File.ReadAllText(SelfInstructOptions.InstructionsPath(broken.Output)));
        Assert.Equal(File.ReadAllText(SelfInstructOptions.RejectedPath(whole.Output)), File.ReadAllText(SelfInstructOptions.RejectedPath(broken.Output)));
        Assert.Equal(File.ReadAllLines(whole.Output).Order(), File.ReadAllLines(broken.Output).Order());
        Assert.True(resumed.RequestsTotal > resumed.Requests, "the rerun started after the recorded round");

        // A kill between a round's appends and its state: torn lines at both ends are cut back; nothing is asked again.
        File.AppendAllText(SelfInstructOptions.InstructionsPath(broken.Output), "{\"id\": \"si-0000");
        File.AppendAllText(SelfInstructOptions.RejectedPath(broken.Output), "{\"request\": 99, \"reason\": \"x\"}\n");
        var idle = new ScriptedTeacher();
        var again = await SelfInstructRunner.RunAsync(broken, si, idle, null, default);
        Assert.Equal((0, 0, 9), (idle.Calls, again.Requests, again.Responses.Skipped));
        Assert.Equal(File.ReadAllText(SelfInstructOptions.InstructionsPath(whole.Output)), File.ReadAllText(SelfInstructOptions.InstructionsPath(broken.Output)));
        Assert.Equal(File.ReadAllText(SelfInstructOptions.RejectedPath(whole.Output)), File.ReadAllText(SelfInstructOptions.RejectedPath(broken.Output)));
    }

    [Fact]
    public async Task Changed_Seeds_Should_Be_Refused_On_Resume()
    {
        var (options, si) = Options("c", 2);
        await SelfInstructRunner.RunAsync(options, si, new ScriptedTeacher(), null, default);
        File.AppendAllLines(si.Seeds, [new JsonObject { ["instruction"] = "Summarise the paragraph below." }.ToJsonString()]);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => SelfInstructRunner.RunAsync(options with { }, si with { Num = 4 }, new ScriptedTeacher(), null, default));
        Assert.Contains("changed since this run started", e.Message);
    }

    [Fact]
    public void FewShot_Should_Draw_Distinct_Seeds_And_Only_Visible_Generated_Tasks_Reproducibly()
    {
        var seeds = Enumerable.Range(0, 10).Select(i => new InstructionTask($"s{i}", $"seed task number {i}")).ToList();
        var si = new SelfInstructOptions { Seeds = "unused", Num = 5 };
        var pool = new InstructionPool(seeds, si);
        foreach (var i in Enumerable.Range(0, 3)) pool.Add(new InstructionTask($"g{i}", $"generated task number {i}"));

        var (prompt, examples) = SelfInstructRunner.FewShot(pool, si, 3, 17, visible: 2);

        Assert.Equal(8, examples.Count);
        Assert.Equal(6, examples.Count(e => e.Id.StartsWith('s')));
        Assert.Equal(["g0", "g1"], examples.Where(e => e.Id.StartsWith('g')).Select(e => e.Id).Order());
        Assert.Equal(8, examples.Distinct().Count());
        var lines = prompt.Split('\n');
        Assert.Equal(SelfInstructOptions.DefaultHeader, lines[0]);
        Assert.Equal(examples.Select((e, i) => $"{i + 1}. {e.Text}"), lines[2..10]);
        Assert.Equal("9.", lines[^1]);
        Assert.Equal(prompt, SelfInstructRunner.FewShot(pool, si, 3, 17, visible: 2).Prompt);
        Assert.NotEqual(prompt, SelfInstructRunner.FewShot(pool, si, 3, 18, visible: 2).Prompt);
    }
}
