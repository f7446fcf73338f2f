using Distill.Losses;

namespace Distill.Training;

/// <summary>
/// Everything one <c>distill train</c> run needs, in five sections that mirror the recipe YAML
/// (<see cref="TrainConfigYaml"/>): model, data, objective, optimizer, trainer. Key names follow NeMo-Aligner's.
/// </summary>
/// <param name="Model">The <c>model</c> section.</param>
/// <param name="Data">The <c>data</c> section.</param>
/// <param name="Objective">The <c>objective</c> section: kd_loss, kd_weight, sft_weight, scales, temperature, beta.</param>
/// <param name="Optimizer">The <c>optimizer</c> section.</param>
/// <param name="Trainer">The <c>trainer</c> section.</param>
public sealed record TrainConfig(ModelOptions Model, DataOptions Data, KdObjective Objective, OptimizerOptions Optimizer, TrainerOptions Trainer)
{
    /// <summary>All defaults; student, data path and output folder still have to be given.</summary>
    public static TrainConfig Default { get; } = new(new ModelOptions(), new DataOptions(), new KdObjective(), new OptimizerOptions(), new TrainerOptions());

    /// <summary>Checks every key; the exception names the first bad one and why.</summary>
    /// <exception cref="InvalidDataException">A value is missing, out of range or inconsistent.</exception>
    public void Validate()
    {
        Require(Model.Student, "model.student", "the student's Hugging Face folder");
        Require(Data.Path, "data.path", "a logit cache folder or a JSONL file");
        Require(Trainer.Out, "trainer.out", "the output folder");
        Require(Model.Device, "model.device", "cpu, cuda or cuda:N");
        _ = Model.ComputeDType;
        if (Data.TopK is < 1) Fail("data.top_k", Data.TopK, "must be >= 1 (or null for the cache's K)");
        ValidateTrainer(Trainer);
        ValidateOptimizer(Optimizer, Trainer.Steps);
        Objective.Validate();
    }

    private static void ValidateTrainer(TrainerOptions t)
    {
        if (t.Steps < 1) Fail("trainer.steps", t.Steps, "must be >= 1");
        if (t.GlobalBatch < 1) Fail("trainer.global_batch", t.GlobalBatch, "must be >= 1");
        if (t.MicroBatch < 1) Fail("trainer.micro_batch", t.MicroBatch, "must be >= 1");
        if (t.MicroBatch > t.GlobalBatch) Fail("trainer.micro_batch", t.MicroBatch, $"is larger than global_batch = {t.GlobalBatch}");
        if (t.GlobalBatch % t.MicroBatch != 0) Fail("trainer.micro_batch", t.MicroBatch, $"does not divide global_batch = {t.GlobalBatch}");
        if (t.ChunkSize < 1) Fail("trainer.chunk_size", t.ChunkSize, "must be >= 1");
        if (t.ValInterval < 0) Fail("trainer.val_interval", t.ValInterval, "must be >= 0 (0 validates only at the end)");
        if (t.SaveInterval < 0) Fail("trainer.save_interval", t.SaveInterval, "must be >= 0 (0 never saves checkpoints)");
        if (t.KeepLast < 1) Fail("trainer.keep_last", t.KeepLast, "must be >= 1");
        if (!(t.MaxSkippedFraction >= 0 && t.MaxSkippedFraction <= 1)) Fail("trainer.max_skipped_fraction", t.MaxSkippedFraction, "must be in [0, 1]");
    }

    private static void ValidateOptimizer(OptimizerOptions o, int steps)
    {
        if (!(o.Lr > 0) || double.IsInfinity(o.Lr)) Fail("optimizer.lr", o.Lr, "must be finite and > 0");
        if (!(o.MinLr >= 0) || o.MinLr > o.Lr) Fail("optimizer.min_lr", o.MinLr, $"must be in [0, lr = {o.Lr}]");
        if (!Enum.IsDefined(o.Schedule)) Fail("optimizer.schedule", o.Schedule, "is not cosine, linear or constant");
        if (o.WarmupSteps < 0 || o.WarmupSteps > steps) Fail("optimizer.warmup_steps", o.WarmupSteps, $"must be in [0, steps = {steps}]");
        if (!(o.WeightDecay >= 0) || double.IsInfinity(o.WeightDecay)) Fail("optimizer.weight_decay", o.WeightDecay, "must be finite and >= 0");
        if (!(o.Beta1 >= 0 && o.Beta1 < 1)) Fail("optimizer.betas", o.Beta1, "first beta must be in [0, 1)");
        if (!(o.Beta2 >= 0 && o.Beta2 < 1)) Fail("optimizer.betas", o.Beta2, "second beta must be in [0, 1)");
        if (!(o.Eps > 0) || double.IsInfinity(o.Eps)) Fail("optimizer.eps", o.Eps, "must be finite and > 0");
        if (!(o.GradClip >= 0) || double.IsInfinity(o.GradClip)) Fail("optimizer.grad_clip", o.GradClip, "must be finite and >= 0 (0 disables clipping)");
    }

    private static void Require(string value, string key, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new InvalidDataException($"train config: {key} is required ({what})");
    }

    private static void Fail(string key, object? value, string reason) =>
        throw new InvalidDataException($"train config: {key} = {value} {reason}");
}
