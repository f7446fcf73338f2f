using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Distill.Cli;
using Distill.LogitCache;
using Distill.Models;
using Distill.Teachers;
using Distill.Tests.Models;
using Distill.Tests.Serving;
using Distill.Tests.Training;
using Distill.Training;

namespace Distill.Tests.Teachers;

/// <summary>
/// <c>distill topk --teacher-url</c> against <c>distill serve</c> on loopback. The fixture serves the tiny teacher (seed 11),
/// the same weights and tokenizer every <see cref="TinyTeacher"/> folder holds, so a local <c>topk</c> over a folder made
/// here is the white-box run of the same model.
/// </summary>
public sealed class ServedTopKTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private string Url => f.Server.BaseUrl.ToString();

    private TopKOptions Served(TinyTeacher t, string output) => new()
    {
        TeacherUrl = Url, Tokenizer = t.Path, Data = t.Data, Output = output, TopK = 6, ChatFormat = TinyTeacher.ChatFormat, BatchTokens = 64,
        Writer = new LogitCacheWriterOptions(ExamplesPerShard: 2), WindowExamples = 2,
    };

    private static (int Exit, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = new RootCommand { TopKCommand.Create() }.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_Black_Box_Cache_Should_Hold_The_White_Box_Rows_And_Train_To_The_Same_First_Step_Loss()
    {
        using var t = new TinyTeacher(conversations: 5);
        string[] common = ["--data", t.Data, "--top-k", "6", "--chat-format", TinyTeacher.ChatFormat, "--batch-tokens", "64"];
        Assert.Equal(0, Cli(["topk", "--teacher", t.Path, "--out", t.Sub("white"), .. common]).Exit);

        var (exit, output, error) = Cli(["topk", "--teacher-url", Url, "--tokenizer", t.Path, "--out", t.Sub("black"), .. common]);

        Assert.True(exit == 0, error);
        Assert.Contains("5 examples computed", output, StringComparison.Ordinal);
        using (var white = LogitCacheReader.Open(t.Sub("white")))
        using (var black = LogitCacheReader.Open(t.Sub("black")))
        {
            black.Verify();
            // The server's ℓ_k = z_k − max z − L (its log-softmax) and ℓ_1 = −L, so ℓ_k − ℓ_1 = z_k − max z and −ℓ_1 = L:
            // the rows a local teacher stores, up to fp32 rounding of the log-softmax and its decimal printing.
            for (var i = 0; i < white.ExampleCount; i++)
            {
                var (w, b) = (white.Example(i).ToExample(), black.Example(i).ToExample());
                Assert.Equal(w.InputIds, b.InputIds);
                Assert.Equal(w.LossMask, b.LossMask);
                Assert.Equal(w.TopKIds, b.TopKIds);
                for (var c = 0; c < w.TopKLogits.Length; c++) Assert.Equal(w.TopKLogits[c], b.TopKLogits[c], 1e-4);
                for (var r = 0; r < w.LogSumExp.Length; r++) Assert.Equal(w.LogSumExp[r], b.LogSumExp[r], 1e-4);
            }
            var server = black.Manifest.Teacher.Server!;
            Assert.Equal((ServerFixture.Name, "/v1/completions", Url), (server.Model, server.Endpoint, server.Url));
            Assert.Contains("\"logprobs\":6", server.Request, StringComparison.Ordinal);
            Assert.Null(black.Manifest.ComputeDType);
            Assert.Equal(white.Manifest.TokenizerFingerprint, black.Manifest.TokenizerFingerprint);
        }

        var student = t.Sub("student");
        using (var model = TinyModels.Create(TinyTeacher.ConfigJson(), seed: 5))
            HfModelFolder.Save(model, student, new HfSaveOptions { SourceDirectory = t.Path });
        string[] train = ["kd_loss=tail_fwd_kl", "sft_weight=0.4", "steps=1", "global_batch=5", "micro_batch=5"];
        Trainer.Run(TrainingTestData.Config(student, t.Sub("white"), t.Sub("white-run"), train));
        Trainer.Run(TrainingTestData.Config(student, t.Sub("black"), t.Sub("black-run"), train));
        Assert.Equal(FirstLoss(t.Sub("white-run")), FirstLoss(t.Sub("black-run")), 5);
    }

    [Fact]
    public void A_Rerun_After_Cancellation_Should_Resume_And_End_Byte_Identical()
    {
        using var t = new TinyTeacher(conversations: 9);
        TopKRunner.Run(Served(t, t.Sub("single")));
        using var cancel = new CancellationTokenSource();
        var progress = new Synchronous(p =>
        {
            if (p.ExamplesDone >= 4) cancel.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => TopKRunner.Run(Served(t, t.Sub("resumed")), progress, cancel.Token));
        var result = TopKRunner.Run(Served(t, t.Sub("resumed")));

        Assert.Equal(4, result.ExamplesResumed);
        Assert.Equal(5, result.ExamplesComputed);
        foreach (var file in Directory.GetFiles(t.Sub("single")))
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(t.Sub("resumed"), Path.GetFileName(file)))), file);
    }

    [Fact]
    public void More_Than_Twenty_Or_Two_Teachers_Should_Be_Refused_Clearly()
    {
        using var t = new TinyTeacher(conversations: 2);

        var (exit, _, error) = Cli("topk", "--teacher-url", Url, "--tokenizer", t.Path, "--data", t.Data, "--out", t.Sub("c"), "--top-k", "21");

        Assert.Equal(1, exit);
        Assert.Contains("top_k = 21 with a served teacher must be at most 20", error, StringComparison.Ordinal);
        (exit, _, error) = Cli("topk", "--teacher-url", Url, "--teacher", t.Path, "--data", t.Data, "--out", t.Sub("c"));
        Assert.Equal(1, exit);
        Assert.Contains("give one teacher", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(t.Sub("c")));
    }

    [Fact]
    public async Task A_Server_That_Cannot_Score_Given_Text_Should_Be_Named_With_What_It_Lacks()
    {
        // A chat-only server: /v1/completions answers, but without log-probabilities of the prompt.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapGet("/v1/models", () => Results.Text("""{"data": [{"id": "chat-only"}]}""", "application/json"));
        app.MapPost("/v1/completions", () => Results.Text("""{"choices": [{"index": 0, "text": "hi", "logprobs": null}]}""", "application/json"));
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1";
        using var t = new TinyTeacher(conversations: 2);

        var e = Assert.Throws<InvalidDataException>(() => TopKRunner.Run(Served(t, t.Sub("c")) with { TeacherUrl = url }));

        Assert.Contains($"{url} (chat-only)", e.Message, StringComparison.Ordinal);
        Assert.Contains("without logprobs.tokens and logprobs.token_logprobs; it cannot score given text", e.Message, StringComparison.Ordinal);
    }

    private static double FirstLoss(string run) => MetricsLog.Read(Path.Combine(run, MetricsLog.FileName))[0]["loss"]!.GetValue<double>();

    private sealed class Synchronous(Action<TopKProgress> report) : IProgress<TopKProgress>
    {
        public void Report(TopKProgress value) => report(value);
    }
}
