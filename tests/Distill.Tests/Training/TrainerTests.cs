using Distill.Losses;
using Distill.Models;
using Distill.Training;
using Xunit.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly string _student;
    private readonly string _cache;
    private readonly string _val;

    private readonly ITestOutputHelper _output;

    public TrainerTests(ITestOutputHelper output)
    {
        _output = output;
        _student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        _cache = TrainingTestData.Cache(_folder.Sub("cache"), TrainingTestData.Examples(10, seed: 1), teacher, topK: 6);
        _val = TrainingTestData.Cache(_folder.Sub("val"), TrainingTestData.Examples(3, seed: 2), teacher, topK: 6);
    }

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void Resumed_Run_Should_End_With_The_Same_Weights_As_An_Uninterrupted_One(string dtype)
    {
        string[] common = ["steps=6", "save_interval=2", "sft_weight=0.3", $"dtype={dtype}", "val_data=" + _val, "val_interval=3"];
        var whole = Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("whole"), common));

        using var cancel = new CancellationTokenSource();
        var stopAtThree = new SyncProgress(p => { if (p.Step == 3 && p.Validation is null) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("split"), common), stopAtThree, cancel.Token));
        Assert.Equal([2, 3], Checkpoints.List(_folder.Sub("split")).Select(c => c.Step));   // Ctrl-C saved step 3
        var resumed = Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("split"), [.. common, "resume=true"]));

        Assert.Equal(6, resumed.Steps);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.ModelDirectory, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.ModelDirectory, "model.safetensors")));
        Assert.Equal(Losses(_folder.Sub("whole")), Losses(_folder.Sub("split")));
    }

    private static double[] Losses(string outDir) =>
        MetricsLog.Read(Path.Combine(outDir, MetricsLog.FileName)).Select(r => r["loss"]!.GetValue<double>()).ToArray();

    [Fact]
    public void Run_Should_Log_Every_Step_And_Validation_And_Save_Config_Final_Model_And_Checkpoints()
    {
        var outDir = _folder.Sub("out");
        var result = Trainer.Run(TrainingTestData.Config(_student, _cache, outDir,
            "steps=4", "val_data=" + _val, "val_interval=2", "save_interval=1", "keep_last=2"));
        var rows = MetricsLog.Read(Path.Combine(outDir, MetricsLog.FileName));
        var steps = rows.Where(r => r["validation"] is null).ToArray();
        var validations = rows.Where(r => r["validation"] is not null).ToArray();
        Assert.Equal([1, 2, 3, 4], steps.Select(r => r["step"]!.GetValue<int>()));
        foreach (var key in new[] { "loss", "kd", "sft", "lr", "tokens_per_s", "grad_norm" })
            Assert.All(steps, r => Assert.True(double.IsFinite(r[key]!.GetValue<double>()), key));
        Assert.Equal([2, 4], validations.Select(r => r["step"]!.GetValue<int>()));
        Assert.All(validations, r => Assert.InRange(r["top1_agreement"]!.GetValue<double>(), 0, 1));
        // loss = kd_weight·KD + sft_weight·CE with the defaults kd_weight 1, sft_weight 0.
        Assert.All(steps, r => Assert.Equal(r["kd"]!.GetValue<double>(), r["loss"]!.GetValue<double>(), 9));
        Assert.Equal(LrSchedule.At(new OptimizerOptions(Lr: 1e-2, WarmupSteps: 1), 2, 4), steps[2]["lr"]!.GetValue<double>(), 12);

        var kept = Checkpoints.List(outDir).Select(c => c.Step).ToArray();
        var best = validations.MinBy(r => r["loss"]!.GetValue<double>())!["step"]!.GetValue<int>();
        Assert.Equal(new[] { 3, 4 }.Union([best]).Order(), kept.Order());
        Assert.Equal(4, result.Steps);
        Assert.NotNull(result.Validation);
        var resolved = TrainConfigYaml.Load(Path.Combine(outDir, TrainConfigYaml.ResolvedFileName));
        Assert.Equal(outDir, resolved.Trainer.Out);
        Assert.StartsWith("plots: ", Distill.Cli.LossPlots.TryWrite(outDir));
        foreach (var png in new[] { Distill.Cli.LossPlots.LossFile, Distill.Cli.LossPlots.LrFile })
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(outDir, png)).Take(4));
        using var final = HfModelFolder.Load(result.ModelDirectory, CPU, ScalarType.Float32);
        Assert.Equal(TrainingTestData.Vocab, final.Config.VocabSize);
    }

    [Fact]
    public void Kd_Student_Should_End_Closer_To_The_Teacher_Than_Sft_Student()
    {
        using var teacher = TrainingTestData.BigramTeacher(77);
        var cache = TrainingTestData.Cache(_folder.Sub("bigram"), TrainingTestData.Examples(40, seed: 6), teacher, topK: 8);
        var heldOut = TrainingTestData.Examples(6, seed: 3);
        string[] common = ["steps=30", "lr=1e-2", "global_batch=8", "micro_batch=8", "weight_decay=0"];
        var kd = Trainer.Run(TrainingTestData.Config(_student, cache, _folder.Sub("kd"), [.. common, "kd_weight=1", "sft_weight=0"]));
        var sft = Trainer.Run(TrainingTestData.Config(_student, cache, _folder.Sub("sft"), [.. common, "kd_weight=0", "sft_weight=1"]));
        var start = HeldOutKl(teacher, _student, heldOut);
        var kdKl = HeldOutKl(teacher, kd.ModelDirectory, heldOut);
        var sftKl = HeldOutKl(teacher, sft.ModelDirectory, heldOut);
        _output.WriteLine($"held-out KL(teacher‖student): untrained {start}, KD {kdKl}, SFT {sftKl}");
        Assert.True(kdKl < sftKl, $"KL(teacher‖student) on held-out targets: KD {kdKl}, SFT {sftKl}, untrained {start}");
        Assert.True(kdKl < start, $"KD {kdKl} vs untrained {start}");
    }

    // Mean full-vocabulary KL(teacher‖student) over the supervised targets of examples neither saw, computed naively.
    private static double HeldOutKl(LlamaForCausalLM teacher, string studentDir, TrainingExample[] examples)
    {
        using var student = HfModelFolder.Load(studentDir, CPU, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double total = 0;
        var count = 0;
        foreach (var e in examples)
        {
            var ids = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
            var p = teacher.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            var q = student.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
            for (var j = 1; j < e.InputIds.Length; j++)
            {
                if (e.LossMask[j] == 0) continue;
                total += (p[j - 1].exp() * (p[j - 1] - q[j - 1])).sum().item<double>();
                count++;
            }
        }
        return total / count;
    }

    [Fact]
    public void Run_Should_Keep_Live_Tensors_Flat_Over_Many_Steps()
    {
        var live = new Dictionary<int, long>();
        var progress = new SyncProgress(p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("leak"), "steps=12", "dtype=bf16", "micro_batch=1"), progress);
        Assert.Equal(live[3], live[12]);
    }

    [Fact]
    public void Run_Should_Stop_At_A_Non_Finite_Step_Or_Skip_It_When_Asked()
    {
        var broken = _folder.Sub("broken");
        using (var model = HfModelFolder.Load(_student, CPU, ScalarType.Float32))
        {
            using (no_grad()) model.LmHeadWeight[3, 2].fill_(double.NaN);
            HfModelFolder.Save(model, broken);
        }
        var e = Assert.Throws<NonFiniteLossException>(() => Trainer.Run(TrainingTestData.Config(broken, _cache, _folder.Sub("stop"))));
        Assert.Equal(1, e.Step);
        Assert.Contains("step 1", e.Message, StringComparison.Ordinal);
        Assert.Empty(Checkpoints.List(_folder.Sub("stop")));

        // Skipping is allowed up to max_skipped_fraction of the steps; the NaN weight still never reaches a saved model.
        e = Assert.Throws<NonFiniteLossException>(() => Trainer.Run(TrainingTestData.Config(broken, _cache, _folder.Sub("skip"),
            "skip_nonfinite=true", "steps=3", "max_skipped_fraction=1")));
        Assert.Contains("lm_head.weight", e.Message, StringComparison.Ordinal);
        var rows = MetricsLog.Read(Path.Combine(_folder.Sub("skip"), MetricsLog.FileName));
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.True(r["skipped"]!.GetValue<bool>()));
        Assert.False(Directory.Exists(Path.Combine(_folder.Sub("skip"), Trainer.FinalFolder)));
    }

    [Fact]
    public void Run_Should_Stop_When_More_Than_The_Allowed_Fraction_Of_Steps_Is_Skipped()
    {
        // lr 1e9: the first update blows the weights up, every later step is non-finite.
        var outDir = _folder.Sub("diverged");
        var e = Assert.Throws<NonFiniteLossException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, outDir,
            "skip_nonfinite=true", "steps=10", "lr=1e9", "warmup_steps=0", "grad_clip=0", "max_skipped_fraction=0.2")));

        Assert.Contains("3 of the", e.Message, StringComparison.Ordinal);   // 2 skips are within 20 % of 10 steps, the 3rd is not
        Assert.Contains("max_skipped_fraction = 0.2", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(outDir, Trainer.FinalFolder)));
        Assert.False(Directory.Exists(outDir));   // nothing to resume from: nothing left behind
    }

    [Fact]
    public void Run_Should_Reject_Bad_Input_Before_Any_Compute()
    {
        var wide = _folder.Sub("wide");
        using (var teacher = TrainingTestData.Model(5))
            TrainingTestData.Cache(wide, TrainingTestData.Examples(2, seed: 4), teacher, topK: 3, teacherVocab: 5000);
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, wide, _folder.Sub("a"))));
        Assert.Contains("5000", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("a"), "val_data=" + wide)));
        Assert.Contains("'teacher'", e.Message, StringComparison.Ordinal);

        var outOfVocab = _folder.Sub("oov.jsonl");
        File.WriteAllText(outOfVocab, "{\"input_ids\": [3, 4, 60, 5]}\n");
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, outOfVocab, _folder.Sub("a"))));
        Assert.Contains("token id 60", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("b"), "micro_batch=8")));
        Assert.Contains("trainer.micro_batch", e.Message, StringComparison.Ordinal);

        Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("c"), "steps=1", "save_interval=1"));
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("c"), "steps=1")));
        Assert.Contains("resume", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("c"), "steps=2", "resume=true", "seed=5")));
        Assert.Contains("trainer.seed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Should_Train_Plain_Sft_From_Tokenized_Jsonl()
    {
        var jsonl = _folder.Sub("train.jsonl");
        File.WriteAllLines(jsonl, TrainingTestData.Examples(5, seed: 8).Select(x =>
            $"{{\"input_ids\": [{string.Join(", ", x.InputIds)}], \"loss_mask\": [{string.Join(", ", x.LossMask)}]}}"));
        var outDir = _folder.Sub("plain");
        var result = Trainer.Run(TrainingTestData.Config(_student, jsonl, outDir, "steps=3"));
        var resolved = TrainConfigYaml.Load(Path.Combine(outDir, TrainConfigYaml.ResolvedFileName));
        Assert.Equal((0.0, 1.0), (resolved.Objective.KdWeight, resolved.Objective.SftWeight));
        var rows = MetricsLog.Read(Path.Combine(outDir, MetricsLog.FileName));
        Assert.All(rows, r => Assert.Equal(r["sft"]!.GetValue<double>(), r["loss"]!.GetValue<double>(), 9));
        Assert.True(rows[^1]["loss"]!.GetValue<double>() < rows[0]["loss"]!.GetValue<double>());
        Assert.Equal(3, result.Steps);
    }
}
