using Distill.Models;
using Distill.Serving;
using Distill.Tests.Serving;
using Distill.Tests.Models;
using Distill.Tests.Teachers;
using Distill.Training;

namespace Distill.Tests.Training;

/// <summary>On-policy distillation against a served teacher (<c>distill serve</c> on loopback) through the same seam.</summary>
public sealed class RemoteTeacherTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private TinyTeacher Tiny => f.Tiny;

    private OpenAiServer Server => f.Server;

    [Fact]
    public void Sampled_Reverse_Kl_From_A_Served_Teacher_Should_Train_As_The_Same_Teacher_Loaded_Here()
    {
        var student = Tiny.Sub("student");
        using (var model = TinyModels.Create(TinyTeacher.ConfigJson(), seed: 3))
            HfModelFolder.Save(model, student, new HfSaveOptions { SourceDirectory = Tiny.Path });
        string[] common = ["lambda=1", "kd_loss=sampled_rkl", "steps=2", "max_new_tokens=6", "chat_format=" + TinyTeacher.ChatFormat, "global_batch=4", "micro_batch=2"];

        Trainer.Run(TrainingTestData.Config(student, Tiny.Data, Tiny.Sub("local"), ["teacher=" + Tiny.Path, .. common]));
        Trainer.Run(TrainingTestData.Config(student, Tiny.Data, Tiny.Sub("served"), ["teacher_url=" + Server.BaseUrl, .. common]));

        // The server's log-probabilities are the model's own log-softmax, so the two runs take the same steps.
        var local = MetricsLog.Read(Path.Combine(Tiny.Sub("local"), MetricsLog.FileName)).Select(r => r["loss"]!.GetValue<double>()).ToArray();
        var served = MetricsLog.Read(Path.Combine(Tiny.Sub("served"), MetricsLog.FileName)).Select(r => r["loss"]!.GetValue<double>()).ToArray();
        Assert.Equal(2, served.Length);
        for (var i = 0; i < local.Length; i++) Assert.Equal(local[i], served[i], 4);
        Assert.All(served, l => Assert.NotEqual(0, l));
    }

    [Theory]
    [InlineData("tail_fwd_kl")]
    [InlineData("fwd_kl")]
    public void Top_K_Kd_From_A_Served_Teacher_Should_Train_As_The_Local_Top_K_Teacher(string loss)
    {
        var student = Tiny.Sub("student-" + loss);
        using (var model = TinyModels.Create(TinyTeacher.ConfigJson(), seed: 5))
            HfModelFolder.Save(model, student, new HfSaveOptions { SourceDirectory = Tiny.Path });
        string[] common = ["kd_loss=" + loss, "teacher_top_k=7", "sft_weight=0.4", "steps=2", "chat_format=" + TinyTeacher.ChatFormat, "global_batch=2", "micro_batch=1"];

        Trainer.Run(TrainingTestData.Config(student, Tiny.Data, Tiny.Sub("local-" + loss), ["teacher=" + Tiny.Path, .. common]));
        Trainer.Run(TrainingTestData.Config(student, Tiny.Data, Tiny.Sub("served-" + loss), ["teacher_url=" + Server.BaseUrl, .. common]));

        // ServedRows: ℓ_k − ℓ_1 = z_k − max z and −ℓ_1 = logsumexp, so the served rows are the local rows up to the rounding
        // of the server's fp32 log-softmax and its printing: the losses agree to float tolerance, step after step.
        var local = Losses(Tiny.Sub("local-" + loss));
        var served = Losses(Tiny.Sub("served-" + loss));
        Assert.Equal(2, served.Length);
        for (var i = 0; i < local.Length; i++) Assert.Equal(local[i], served[i], 4);
        Assert.All(served, l => Assert.True(l > 0));
    }

    [Fact]
    public void A_Server_That_Tokenizes_Otherwise_Should_Be_Refused_Naming_The_Difference()
    {
        // The student's tokenizer swaps the ids of "a" and "b": the same ids are other text to the server.
        var student = Tiny.Sub("swapped");
        using (var model = TinyModels.Create(TinyTeacher.ConfigJson(), seed: 5))
            HfModelFolder.Save(model, student, new HfSaveOptions { SourceDirectory = Tiny.Path });
        var path = Path.Combine(student, "tokenizer.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var vocab = json["model"]!["vocab"]!.AsObject();
        (vocab["a"], vocab["b"]) = (vocab["b"]!.GetValue<int>(), vocab["a"]!.GetValue<int>());
        File.WriteAllText(path, json.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(student, Tiny.Data, Tiny.Sub("swapped-out"),
            "teacher_url=" + Server.BaseUrl, "kd_loss=tail_fwd_kl", "teacher_top_k=5", "steps=1", "chat_format=" + TinyTeacher.ChatFormat)));
        Assert.Contains(Server.BaseUrl.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("tokenization is not the student's", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Served_Teacher_Should_Refuse_More_Than_Twenty_Top_Log_Probabilities()
    {
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(Tiny.Path, Tiny.Data, Tiny.Sub("k21"),
            "teacher_url=" + Server.BaseUrl, "kd_loss=tail_fwd_kl", "teacher_top_k=21", "chat_format=" + TinyTeacher.ChatFormat)));
        Assert.Contains("teacher_top_k", e.Message, StringComparison.Ordinal);
        Assert.Contains("at most 20", e.Message, StringComparison.Ordinal);
    }

    private static double[] Losses(string run) =>
        MetricsLog.Read(Path.Combine(run, MetricsLog.FileName)).Select(r => r["loss"]!.GetValue<double>()).ToArray();

    [Fact]
    public void A_Served_Teacher_Should_Be_Refused_For_Losses_It_Cannot_Give()
    {
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(Tiny.Path, Tiny.Data, Tiny.Sub("x"),
            "teacher_url=" + Server.BaseUrl, "kd_loss=jsd", "chat_format=" + TinyTeacher.ChatFormat)));
        Assert.Contains("sampled_rkl", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(Tiny.Path, Tiny.Data, Tiny.Sub("y"),
            "teacher_url=" + Server.BaseUrl, "teacher=" + Tiny.Path, "chat_format=" + TinyTeacher.ChatFormat)));
        Assert.Contains("choose one teacher", e.Message, StringComparison.Ordinal);
    }
}
