using System.Text.Json.Nodes;
using Distill.LogitCache;
using Distill.Models;
using Distill.Synthetic;
using Distill.Teachers;
using Distill.Tests.Models;
using Distill.Tests.Teachers;
using Distill.Tests.Training;
using Distill.Text.Conversations;
using Distill.Training;

namespace Distill.Tests.Serving;

/// <summary><c>distill generate --logprobs K</c>: the teacher's top-K at every generated token as a logit cache.</summary>
public sealed class GeneratedCacheTests(ServerFixture f) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-gencache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Sub(string name) => Path.Combine(_root, name);

    private string Prompts()
    {
        string[] texts = ["Hello", "Ping a", "bc xyz on", "Pong Pong"];
        var path = Sub("prompts.jsonl");
        File.WriteAllLines(path, texts.Select(t => new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = t }) }.ToJsonString()));
        return path;
    }

    private GenerateOptions Options(string output) => new()
    {
        Prompts = Prompts(), Output = Sub(output), N = 2, Temperature = 0.9, MaxNewTokens = 6, Seed = 42, Concurrency = 1, TimeoutSeconds = 30, // one at a time: lines in prompt order
        Logprobs = 5, ChatFormat = TinyTeacher.ChatFormat,
    };

    [Fact]
    public async Task A_Served_And_A_Local_Teacher_Should_Write_The_Models_Top_K_At_Every_Generated_Token()
    {
        // The random tiny teacher puts vocabulary padding (ids with no text) in its top-K: the server names tokens by id.
        var remote = Options("remote.jsonl") with { TeacherUrl = f.Server.BaseUrl.ToString(), Tokenizer = f.Tiny.Path, ServerTokenIds = true };
        var local = Options("local.jsonl") with { Teacher = f.Tiny.Path };

        await GenerateRunner.RunAsync(remote, null, CancellationToken.None);
        await GenerateRunner.RunAsync(local, null, CancellationToken.None);

        using var model = f.Tiny.Load();
        var white = new TopKTeacher(model, 5);
        using (var served = LogitCacheReader.Open(remote.CachePath))
        using (var here = LogitCacheReader.Open(local.CachePath))
        {
            served.Verify();
            Assert.Equal(8, served.ExampleCount);
            Assert.Equal(ServerFixture.Name, served.Manifest.Teacher.Server!.Model);
            Assert.Equal("/v1/chat/completions", served.Manifest.Teacher.Server.Endpoint);
            Assert.Null(here.Manifest.Teacher.Server);
            for (var i = 0; i < served.ExampleCount; i++)
            {
                // The same seeds give the same tokens either way; every row must be what the model itself, run here
                // teacher-forced over the stored tokens, puts at that position.
                var (s, h) = (served.Example(i).ToExample(), here.Example(i).ToExample());
                Assert.Equal(s.InputIds, h.InputIds);
                Assert.Equal(s.LossMask, h.LossMask);
                Assert.True(s.Rows > 0);
                var expected = white.ComputeBatch([new TokenizedExample(s.InputIds, s.LossMask, "", i, false)])[0];
                foreach (var stored in new[] { s, h })
                {
                    Assert.Equal(expected.TopKIds, stored.TopKIds);
                    for (var c = 0; c < expected.TopKLogits.Length; c++) Assert.Equal(expected.TopKLogits[c], stored.TopKLogits[c], 1e-4);
                    for (var r = 0; r < expected.LogSumExp.Length; r++) Assert.Equal(expected.LogSumExp[r], stored.LogSumExp[r], 1e-4);
                }
            }
        }

        // Training reads the generated cache as any other: KD + SFT on the teacher's own answers.
        var student = Sub("student");
        using (var init = TinyModels.Create(TinyTeacher.ConfigJson(), seed: 5))
            HfModelFolder.Save(init, student, new HfSaveOptions { SourceDirectory = f.Tiny.Path });
        Trainer.Run(TrainingTestData.Config(student, remote.CachePath, Sub("run"), "kd_loss=tail_fwd_kl", "sft_weight=0.4", "steps=1", "global_batch=2", "micro_batch=2"));
        var loss = MetricsLog.Read(Path.Combine(Sub("run"), MetricsLog.FileName))[0]["loss"]!.GetValue<double>();
        Assert.True(double.IsFinite(loss) && loss > 0);
    }

    [Fact]
    public async Task A_Rerun_Should_Skip_Every_Prompt_And_Rebuild_The_Same_Cache()
    {
        var options = Options("again.jsonl") with { Teacher = f.Tiny.Path };
        await GenerateRunner.RunAsync(options, null, CancellationToken.None);
        var first = Directory.GetFiles(options.CachePath).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes);

        var summary = await GenerateRunner.RunAsync(options, null, CancellationToken.None);

        Assert.Equal((0, 4), (summary.Done, summary.Skipped));
        Assert.Equal(first.Keys.Order(), Directory.GetFiles(options.CachePath).Select(Path.GetFileName).Order());
        foreach (var (name, bytes) in first) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(options.CachePath, name)));
    }

    [Fact]
    public void More_Than_Twenty_Or_A_Server_Without_A_Tokenizer_Should_Be_Refused()
    {
        Assert.Contains("[1, 20]", Assert.Throws<ArgumentException>(() => (Options("x.jsonl") with { Teacher = f.Tiny.Path, Logprobs = 21 }).Validate()).Message);
        Assert.Contains("--tokenizer", Assert.Throws<ArgumentException>(() => (Options("x.jsonl") with { TeacherUrl = "http://127.0.0.1:1/v1" }).Validate()).Message);
    }
}
