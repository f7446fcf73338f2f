using Distill.Losses;
using Distill.Teachers;

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

    /// <summary>The <c>online</c> section: on-policy sampling with a live teacher (GKD).</summary>
    public OnlineOptions Online { get; init; } = new();

    /// <summary>The <c>feature</c> section: hidden-state or attention-relation distillation with a live teacher.</summary>
    public FeatureOptions Feature { get; init; } = new();

    /// <summary>Checks every key; the exception names the first bad one and why.</summary>
    /// <exception cref="InvalidDataException">A value is missing, out of range or inconsistent.</exception>
    public void Validate()
    {
        Require(Model.Student, "model.student", "the student's Hugging Face folder");
        Require(Data.Path, "data.path", "a logit cache folder or a JSONL file");
        Require(Trainer.Out, "trainer.out", "the output folder");
        Require(Model.Device, "model.device", "cpu, cuda or cuda:N");
        _ = Model.ComputeDType;
        _ = Model.TeacherComputeDType;
        if (Model.Teacher is not null && string.IsNullOrWhiteSpace(Model.Teacher)) Fail("model.teacher", "''", "must name the teacher's Hugging Face folder (or be null)");
        if (Model.TeacherTopK is < 1) Fail("model.teacher_top_k", Model.TeacherTopK, "must be >= 1 (or null for the full vocabulary)");
        if (Model.TeacherTopK is not null && !Model.HasLiveTeacher) Fail("model.teacher_top_k", Model.TeacherTopK, "needs a live teacher (model.teacher or model.teacher_url)");
        if (Model.TeacherUrl is not null && Model.TeacherTopK is > RemoteTeacher.MaxTopK)
            Fail("model.teacher_top_k", Model.TeacherTopK, $"must be at most {RemoteTeacher.MaxTopK} with a served teacher (OpenAI returns at most {RemoteTeacher.MaxTopK} top log-probabilities; vLLM's default --max-logprobs is 20)");
        if (Model.TeacherUrl is not null && Model.Teacher is not null) Fail("model.teacher_url", Model.TeacherUrl, $"and model.teacher = {Model.Teacher} were both given; choose one teacher");
        if (Model.TeacherUrl is not null && Model.TeacherTopK is null && Objective.KdWeight > 0 && Objective.Kind != KdLossKind.SampledRkl)
            Fail("model.teacher_url", Model.TeacherUrl, $"returns no full distribution: teach with kd_loss = sampled_rkl, or give teacher_top_k (≤ {RemoteTeacher.MaxTopK}) for " +
                $"{KdObjective.Name(Objective.Kind)} over the server's top log-probabilities");
        if (Data.TopK is < 1) Fail("data.top_k", Data.TopK, "must be >= 1 (or null for the cache's K)");
        ValidateTrainer(Trainer);
        ValidateOptimizer(Optimizer, Trainer.Steps);
        Objective.Validate();
        ValidateOnline();
        ValidateFeature();
    }

    private void ValidateFeature()
    {
        var f = Feature;
        if (!f.Enabled) return;
        if (!(f.Weight >= 0) || double.IsInfinity(f.Weight)) Fail("feature.weight", f.Weight, "must be finite and >= 0");
        if (Model.Teacher is null)
            Fail("feature.loss", FeatureOptions.Name(f.Loss), Model.TeacherUrl is null
                ? "needs a live teacher model (model.teacher): hidden states come from a teacher running beside the student, a logit cache holds none"
                : "needs a local teacher model (model.teacher): a served teacher returns no hidden states");
    }

    private void ValidateOnline()
    {
        var o = Online;
        if (!(o.Lambda >= 0 && o.Lambda <= 1)) Fail("online.lambda", o.Lambda, "must be in [0, 1]");
        if (o.SeqKd && o.Lambda == 1) Fail("online.seq_kd", "true", "has no effect with lambda = 1: every completion is the student's own");
        if (o.Samples && !Model.HasLiveTeacher) Fail(o.SeqKd ? "online.seq_kd" : "online.lambda", o.SeqKd ? "true" : o.Lambda, "needs a live teacher (model.teacher or model.teacher_url)");
        if (o.SeqKd && Model.Teacher is null) Fail("online.seq_kd", "true", "needs a local teacher model (model.teacher) to sample the completions");
        if (o.MaxNewTokens < 1) Fail("online.max_new_tokens", o.MaxNewTokens, "must be >= 1");
        if (!(o.GenTemperature >= 0) || double.IsInfinity(o.GenTemperature)) Fail("online.gen_temperature", o.GenTemperature, "must be finite and >= 0 (0 is greedy)");
        if (!(o.GenTopP > 0 && o.GenTopP <= 1)) Fail("online.gen_top_p", o.GenTopP, "must be in (0, 1]");
        if (o.GenTopK < 0) Fail("online.gen_top_k", o.GenTopK, "must be >= 0 (0 is off)");
        if (Objective.Kind == KdLossKind.SampledRkl && !Model.HasLiveTeacher)
            Fail("objective.kd_loss", "sampled_rkl", "needs a live teacher (model.teacher or model.teacher_url): a cache holds no log-probability of the student's samples");
        if (Objective.Kind == KdLossKind.SampledRkl && Model.TeacherTopK is not null)
            Fail("objective.kd_loss", "sampled_rkl", $"needs the teacher's log-probability of every sampled token, which teacher_top_k = {Model.TeacherTopK} does not keep");
    }

    private static void ValidateTrainer(TrainerOptions t)
    {
        if (t.Steps < 1) Fail("trainer.steps", t.Steps, "must be >= 1");
        if (t.GlobalBatch < 1) Fail("trainer.global_batch", t.GlobalBatch, "must be >= 1");
        if (t.MicroBatch < 1) Fail("trainer.micro_batch", t.MicroBatch, "must be >= 1");
        if (t.MicroBatch > t.GlobalBatch) Fail("trainer.micro_batch", t.MicroBatch, $"is larger than global_batch = {t.GlobalBatch}");
        if (t.GlobalBatch % t.MicroBatch != 0) Fail("trainer.micro_batch", t.MicroBatch, $"does not divide global_batch = {t.GlobalBatch}");
        if (t.ChunkSize < 1) Fail("trainer.chunk_size", t.ChunkSize, "must be >= 1");
        if (t.ChunkElements < 1) Fail("trainer.chunk_elements", t.ChunkElements, "must be >= 1");
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
