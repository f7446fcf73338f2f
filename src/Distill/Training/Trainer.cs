using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// <c>distill train</c> as a library call: KD + SFT training of a student from a logit cache (or plain SFT from
/// tokenized JSONL), resumable exactly. Output folder: <c>train_config.yaml</c> (the resolved config),
/// <c>metrics.jsonl</c>, <c>checkpoints/step-N/</c> and the final student in
/// <c>final/</c> (its fp32 master weights, with the student's tokenizer files).
/// </summary>
public static class Trainer
{
    /// <summary>The final student's folder inside the output folder.</summary>
    public const string FinalFolder = "final";

    /// <summary>Opens <c>data.path</c> and <c>data.val_data</c> and trains; see <see cref="Run(TrainConfig, IExampleSource, IExampleSource?, IProgress{TrainProgress}?, CancellationToken)"/>.</summary>
    public static TrainResult Run(TrainConfig config, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        config.Validate();
        var student = config.Model.Student;
        using var train = TrainingData.Open(config.Data.Path, config.Data, student);
        using var val = config.Data.ValData is { } v ? TrainingData.Open(v, config.Data, student) : null;
        return Run(config, train, val, progress, cancellationToken);
    }

    /// <summary>
    /// Trains the student of <paramref name="config"/> on <paramref name="train"/>. Every check (config, resume state,
    /// data against the student, a cache against its data file: <see cref="CacheDataCheck"/>) happens before the first
    /// forward pass.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad config, data that does not fit the student, or a resume mismatch.</exception>
    /// <exception cref="NonFiniteLossException">A non-finite step with <c>skip_nonfinite</c> off.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; a checkpoint of the last completed step was saved first.</exception>
    public static TrainResult Run(TrainConfig config, IExampleSource train, IExampleSource? val,
        IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        config = Resolve(config, train, val);
        var notes = new[] { train, val }.OfType<CacheExampleSource>().Select(CacheDataCheck.Check).OfType<string>()
            .Concat(new[] { train, val }.OfType<InMemoryExampleSource>().SelectMany(s => s.Notes)).ToList();
        var t = config.Trainer;
        var identity = DataIdentity.Of(train);
        var resume = RunFolder.Prepare(config, identity, notes);
        var final = Path.Combine(t.Out, FinalFolder);
        // A resumed run that had already finished: its final student stands (saved from the same masters), nothing to redo.
        if (resume is { State: var finished } && finished.Step == t.Steps && Directory.Exists(final))
        {
            foreach (var note in notes) progress?.Report(new TrainProgress(finished.Step, t.Steps, double.NaN, 0, 0, 0, 0, 0, TimeSpan.Zero, Message: note));
            return new TrainResult(finished.Step, double.NaN, final, finished.SkippedSteps, Validation: null) { NothingLeft = true };
        }
        var device = Devices.Parse(config.Model.Device);
        var master = HfModelFolder.Load(resume?.Path ?? config.Model.Student, device, ScalarType.Float32);
        using var model = new TrainingModel(master, config.Model.ComputeDType);
        StudentCompatibility.Check(master.Config, config.Model.Student, train);
        if (val is not null) StudentCompatibility.Check(master.Config, config.Model.Student, val);
        TrainingTeachers.Check(config, train, val, master.Config);
        using var teachers = TrainingTeachers.Open(config, train, val, device);
        using var features = teachers.Features(config, master.Config, device);
        using var optimizer = CreateOptimizer(master, config.Optimizer, features?.Projections.Parameters);
        if (resume is not null)
        {
            features?.Projections.Load(resume.Value.Path);
            optimizer.load_state_dict(Path.Combine(resume.Value.Path, Checkpoints.OptimizerFile));
        }
        Directory.CreateDirectory(t.Out);
        TrainConfigYaml.Save(config, Path.Combine(t.Out, TrainConfigYaml.ResolvedFileName));
        using var metrics = new MetricsLog(t.Out, resume?.State.Step);
        var start = resume?.State ?? new TrainerState { Step = 0, ExamplesSeen = 0, Seed = t.Seed, GlobalBatch = t.GlobalBatch, DataIdentity = identity };
        foreach (var note in notes) progress?.Report(new TrainProgress(start.Step, t.Steps, double.NaN, 0, 0, 0, 0, 0, TimeSpan.Zero, Message: note));
        var loop = new TrainingLoop(config, model, optimizer, train, val, teachers, features, metrics, progress, start, resume?.Path);
        try
        {
            loop.Run(cancellationToken);
        }
        catch
        {
            metrics.Dispose();
            RunFolder.RemoveIfNothingToResume(t.Out);
            throw;
        }
        NonFiniteGuard.CheckWeights(master, $"final model {final}");
        HfModelFolder.Save(master, final, new HfSaveOptions { Overwrite = true, SourceDirectory = config.Model.Student });
        metrics.Dispose();
        return new TrainResult(loop.State.Step, loop.LastLoss, final, loop.State.SkippedSteps, loop.LastValidation)
        {
            NothingLeft = loop.State.Step == start.Step,
        };
    }

    /// <summary>
    /// Validates, and adapts the objective to the data: without a teacher (a logit cache or <c>model.teacher</c>) the run
    /// is plain SFT (kd_weight 0, sft_weight 1 unless set); KD validation from a cache needs a cache as well.
    /// </summary>
    public static TrainConfig Resolve(TrainConfig config, IExampleSource train, IExampleSource? val)
    {
        config.Validate();
        if (train.Count < 1) throw new InvalidDataException($"{train.Name}: no training examples");
        if (!TrainingTeachers.HasTeacher(config, train))
        {
            var o = config.Objective;
            config = config with { Objective = o with { KdWeight = 0, SftWeight = o.SftWeight > 0 ? o.SftWeight : 1 } };
        }
        if (val is not null && train is CacheExampleSource && val is not CacheExampleSource && config.Objective.KdWeight > 0)
            throw new InvalidDataException($"train config: data.val_data = {val.Name} has no teacher logits but kd_weight > 0; give a logit cache for validation");
        if (train is CacheExampleSource a && val is CacheExampleSource b)
        {
            if (a.Manifest.Teacher.Identity != b.Manifest.Teacher.Identity)
                throw new InvalidDataException($"{b.Name}: key 'teacher' differs from {a.Name}'s; validation must use the same teacher's logits");
            if (a.Manifest.TokenizerFingerprint != b.Manifest.TokenizerFingerprint)
                throw new InvalidDataException($"{b.Name}: key 'tokenizer_fingerprint' differs from {a.Name}'s; the two caches were tokenized differently");
        }
        return config;
    }

    /// <summary>
    /// AdamW over the fp32 masters (and <paramref name="extra"/> trainable tensors, such as feature projections, after
    /// them) in two groups: matrices with weight decay, vectors (norms, biases) without.
    /// </summary>
    public static AdamW CreateOptimizer(LlamaForCausalLM master, OptimizerOptions o, IEnumerable<Parameter>? extra = null)
    {
        var parameters = master.parameters().Concat(extra ?? []).ToArray();
        var groups = new[]
        {
            new AdamW.ParamGroup(parameters.Where(p => p.dim() >= 2), o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay),
            new AdamW.ParamGroup(parameters.Where(p => p.dim() < 2), o.Lr, o.Beta1, o.Beta2, o.Eps, 0.0),
        };
        return new AdamW(groups, o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay);
    }
}

/// <summary>The outcome of a completed run.</summary>
/// <param name="Steps">Steps completed.</param>
/// <param name="FinalLoss">The last step's training loss.</param>
/// <param name="ModelDirectory">The final student's Hugging Face folder.</param>
/// <param name="SkippedSteps">Steps skipped for non-finite values.</param>
/// <param name="Validation">The final validation, or null without validation data.</param>
public sealed record TrainResult(int Steps, double FinalLoss, string ModelDirectory, int SkippedSteps, ValidationResult? Validation)
{
    /// <summary>
    /// True when a resumed run had already done every step, so no step ran (<see cref="FinalLoss"/> is NaN): its
    /// final student was left as it was, or saved from the last checkpoint when a kill had come before it was written.
    /// </summary>
    public bool NothingLeft { get; init; }
}
