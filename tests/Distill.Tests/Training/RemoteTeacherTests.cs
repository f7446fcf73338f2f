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
