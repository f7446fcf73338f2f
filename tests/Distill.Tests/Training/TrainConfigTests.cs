using Distill.Losses;
using Distill.Training;

namespace Distill.Tests.Training;

public class TrainConfigTests
{
    private static TrainConfig Complete() => TrainConfig.Default with
    {
        Model = new ModelOptions("student"),
        Data = new DataOptions("cache"),
        Trainer = new TrainerOptions("out"),
    };

    [Fact]
    public void Parse_Should_Read_Sections_And_Top_Level_Keys()
    {
        const string yaml = """
            model:
              student: /models/tiny
              dtype: bf16
            objective:
              kd_loss: tail_fwd_kl
              sft_weight: 0.4
              t_squared: true
            optimizer:
              betas: [0.8, 0.95]
              schedule: linear
            lr: 3.0e-4
            trainer:
              global_batch: 6
              micro_batch: 3
            data:
              val_data: null
              top_k: 7
            """;
        var config = TrainConfigYaml.Parse(yaml, "recipe.yaml");
        Assert.Equal("/models/tiny", config.Model.Student);
        Assert.Equal("bf16", config.Model.DType);
        Assert.Equal(KdLossKind.TailFwdKl, config.Objective.Kind);
        Assert.Equal(0.4, config.Objective.SftWeight);
        Assert.True(config.Objective.TSquared);
        Assert.Equal((0.8, 0.95), (config.Optimizer.Beta1, config.Optimizer.Beta2));
        Assert.Equal(ScheduleKind.Linear, config.Optimizer.Schedule);
        Assert.Equal(3e-4, config.Optimizer.Lr);
        Assert.Equal((6, 3), (config.Trainer.GlobalBatch, config.Trainer.MicroBatch));
        Assert.Null(config.Data.ValData);
        Assert.Equal(7, config.Data.TopK);
        Assert.Equal(TrainConfig.Default.Optimizer.Eps, config.Optimizer.Eps);
    }

    [Theory]
    [InlineData("optimizer:\n  lrr: 1\n", "optimizer.lrr")]
    [InlineData("trainer:\n  stepz: 3\n", "trainer.stepz")]
    [InlineData("warmup: 3\n", "'warmup'")]
    [InlineData("model:\n  lr: 1\n", "model.lr")]
    public void Parse_Should_Reject_Unknown_Keys_Naming_Them(string yaml, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainConfigYaml.Parse(yaml, "r.yaml"));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("r.yaml", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trainer:\n  steps: many\n", "trainer.steps")]
    [InlineData("objective:\n  kd_loss: kl\n", "objective.kd_loss")]
    [InlineData("optimizer:\n  betas: [0.9]\n", "optimizer.betas")]
    [InlineData("trainer:\n  resume: perhaps\n", "trainer.resume")]
    [InlineData("optimizer: [1, 2]\n", "optimizer")]
    [InlineData("model: {student: [a: b\n", "not valid YAML")]
    public void Parse_Should_Reject_Bad_Values_Naming_The_Key(string yaml, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainConfigYaml.Parse(yaml, "r.yaml"));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Override_Should_Accept_Dotted_And_Bare_Keys_In_Order()
    {
        var config = TrainConfigYaml.Override(Complete(),
            ["optimizer.lr=0.5", "kd-weight=0.25", "lr=0.125", "betas=0.7,0.75", "val_data=v.jsonl", "top_k=null", "trainer.resume=true"]);
        Assert.Equal(0.125, config.Optimizer.Lr);
        Assert.Equal(0.25, config.Objective.KdWeight);
        Assert.Equal((0.7, 0.75), (config.Optimizer.Beta1, config.Optimizer.Beta2));
        Assert.Equal("v.jsonl", config.Data.ValData);
        Assert.Null(config.Data.TopK);
        Assert.True(config.Trainer.Resume);
    }

    [Theory]
    [InlineData("learning_rate=1", "learning_rate")]
    [InlineData("lr", "expected key=value")]
    [InlineData("steps=1.5", "trainer.steps")]
    public void Override_Should_Reject_Unknown_Keys_And_Bad_Values(string assignment, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainConfigYaml.Override(Complete(), [assignment]));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToYaml_Should_Round_Trip_Every_Key()
    {
        var config = TrainConfigYaml.Override(Complete(),
            ["kd_loss=jsd", "beta=0.3", "temperature=2.5", "sft_weight=0.1", "min_lr=1e-7", "lr=3e-5", "schedule=constant",
             "warmup_steps=7", "betas=0.85,0.99", "grad_clip=0", "seed=99", "val_data=held out.jsonl", "chat_format=chatml",
             "skip_nonfinite=true", "chunk_size=5", "chunk_elements=4096", "dtype=bfloat16", "student=dir \"quoted\""]);
        var again = TrainConfigYaml.Parse(TrainConfigYaml.ToYaml(config), "resolved.yaml");
        Assert.Equal(config, again);
    }

    [Fact]
    public void Validate_Should_Accept_A_Complete_Default_Config() => Complete().Validate();

    [Theory]
    [InlineData("micro_batch=9", "trainer.micro_batch")]
    [InlineData("micro_batch=3", "trainer.micro_batch")]
    [InlineData("lr=0", "optimizer.lr")]
    [InlineData("lr=-1e-5", "optimizer.lr")]
    [InlineData("min_lr=1", "optimizer.min_lr")]
    [InlineData("warmup_steps=101", "optimizer.warmup_steps")]
    [InlineData("steps=0", "trainer.steps")]
    [InlineData("keep_last=0", "trainer.keep_last")]
    [InlineData("chunk_elements=0", "trainer.chunk_elements")]
    [InlineData("top_k=0", "data.top_k")]
    [InlineData("dtype=float16", "model.dtype")]
    [InlineData("betas=0.9,1", "optimizer.betas")]
    [InlineData("student=", "model.student")]
    [InlineData("out= ", "trainer.out")]
    [InlineData("kd_weight=-1", "kd_weight")]
    public void Validate_Should_Name_The_Bad_Key(string assignment, string named)
    {
        var config = TrainConfigYaml.Override(Complete(), ["global_batch=8", assignment]);
        var e = Assert.Throws<InvalidDataException>(config.Validate);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    // 2^25 logits: 1048 rows at 32000 (so chunk_size's 1024 binds), 261 at 128256, one row at a vocabulary above 2^25.
    [Theory]
    [InlineData(32000, 1024)]
    [InlineData(128256, 261)]
    [InlineData(151936, 220)]
    [InlineData(40_000_000, 1)]
    public void ChunkRows_Should_Bound_A_Chunk_By_Rows_And_By_Logits(long vocab, int rows) =>
        Assert.Equal(rows, new TrainerOptions().ChunkRows(vocab));
}
