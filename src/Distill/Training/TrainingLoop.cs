using System.Diagnostics;
using Distill.Evaluation;
using Distill.Teachers;
using Distill.Text.Tokenization;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>The optimizer steps of one run: batching, gradient accumulation, clipping, the update, logging, checkpoints.</summary>
internal sealed class TrainingLoop(
    TrainConfig config, TrainingModel model, AdamW optimizer, IExampleSource train, IExampleSource? val,
    TrainingTeachers teachers, FeatureDistillation? features, MetricsLog metrics, IProgress<TrainProgress>? progress, TrainerState start, string? startCheckpoint)
{
    private readonly DataOrder _order = new(train.Count, config.Trainer.Seed);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Parameter[] _trained = model.Master.parameters().Concat(features?.Projections.Parameters ?? []).ToArray();
    private readonly IReadOnlyCollection<int> _stopIds = !config.Model.HasLiveTeacher ? []
        : OnPolicyBatch.StopIds(config.Model.Student, config.Data.ChatFormat, model.Master.Config);
    private readonly HfTokenizer? _tokenizer = config.Model.Teacher is not null && File.Exists(Path.Combine(config.Model.Student, "tokenizer.json"))
        ? HfTokenizer.Load(config.Model.Student) : null;
    private OnPolicyBatch? _onPolicy;

    // Rows per chunk of the loss at the student's vocabulary (chunk_size, bounded by chunk_elements).
    private int ChunkRows => config.Trainer.ChunkRows(model.Compute.Config.VocabSize);

    private OnPolicyBatch? OnPolicy => config.Online.Samples
        ? _onPolicy ??= new OnPolicyBatch(config.Online, config.Objective, _stopIds, config.Trainer.Seed, config.Trainer.MicroBatch)
        : null;

    public TrainerState State { get; private set; } = start;

    public string? LastCheckpoint { get; private set; } = startCheckpoint;

    public double LastLoss { get; private set; } = double.NaN;

    public ValidationResult? LastValidation { get; private set; }

    /// <summary>Runs the remaining steps; on cancellation saves a checkpoint (when a step was done) and throws.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        var t = config.Trainer;
        var first = State.Step;
        for (var step = State.Step; step < t.Steps; step++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (State.Step > first) Save("interrupted");
                cancellationToken.ThrowIfCancellationRequested();
            }
            var outcome = Step(step);
            State = State with
            {
                Step = step + 1,
                ExamplesSeen = (long)(step + 1) * t.GlobalBatch,
                SkippedSteps = State.SkippedSteps + (outcome.Skipped ? 1 : 0),
            };
            LastLoss = outcome.Loss;
            Log(outcome);
            NonFiniteGuard.CheckSkipped(State, t, LastCheckpoint);
            var done = step + 1 == t.Steps;
            if (val is not null && (done || (t.ValInterval > 0 && State.Step % t.ValInterval == 0))) Validate();
            if (t.SaveInterval > 0 && State.Step % t.SaveInterval == 0) Save("saved");
        }
    }

    private StepOutcome Step(int step)
    {
        using var scope = NewDisposeScope();
        var t = config.Trainer;
        var started = Stopwatch.GetTimestamp();
        var indices = _order.Range((long)step * t.GlobalBatch, t.GlobalBatch);
        model.ZeroGrad();
        features?.Projections.ZeroGrad();
        GenerationStats? generation = null;
        IReadOnlyList<BatchPart> parts;
        if (OnPolicy is { } onPolicy)
            (parts, generation) = onPolicy.Build(train, indices, step, model.Compute, (teachers.Train as ModelTeacher)?.Model);
        else
            parts = [new BatchPart(indices.Select(train.Example).ToArray(), indices, config.Objective)];
        var (loss, kd, sft, tokens, teacherSeconds, feature) = GradientAccumulator.Accumulate(model.Compute, parts, t.MicroBatch, ChunkRows, teachers.Train, features);
        model.CopyGradsToMasters();
        var clip = config.Optimizer.GradClip > 0 ? config.Optimizer.GradClip : double.PositiveInfinity;
        var gradNorm = nn.utils.clip_grad_norm_(_trained, clip);
        var lr = LrSchedule.At(config.Optimizer, step, t.Steps);
        var skipped = !double.IsFinite(loss) || !double.IsFinite(gradNorm);
        if (skipped && !t.SkipNonfinite)
            throw new NonFiniteLossException(step + 1, double.IsFinite(loss) ? "the gradient norm" : "the loss", LastCheckpoint);
        if (!skipped)
        {
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            optimizer.step();
            model.CopyMastersToCompute();
        }
        model.ZeroGrad();
        features?.Projections.ZeroGrad();
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new StepOutcome(loss, kd, sft, gradNorm, lr, tokens, seconds, skipped, teacherSeconds, generation) { Feature = features is null ? null : feature };
    }

    private void Log(StepOutcome o)
    {
        var tokensPerSecond = o.Seconds > 0 ? o.Tokens / o.Seconds : 0;
        var row = new Dictionary<string, object?>
        {
            ["step"] = State.Step, ["loss"] = o.Loss, ["kd"] = o.Kd, ["sft"] = o.Sft, ["lr"] = o.Lr,
            ["tokens_per_s"] = tokensPerSecond, ["grad_norm"] = o.GradNorm,
        };
        if (o.Feature is { } feature) row["feature"] = feature;
        if (o.Skipped) row["skipped"] = true;
        if (teachers.Train is ModelTeacher or RemoteTeacher)
        {
            var generation = o.Generation?.Seconds ?? 0;
            (row["generation_s"], row["teacher_s"], row["student_s"]) = (generation, o.TeacherSeconds, o.Seconds - generation - o.TeacherSeconds);
        }
        if (o.Generation is { } g) (row["generated_tokens"], row["mean_completion_length"]) = (g.Tokens, g.MeanLength);
        metrics.Write(row);
        progress?.Report(new TrainProgress(State.Step, config.Trainer.Steps, o.Loss, o.Kd, o.Sft, o.Lr, tokensPerSecond, o.GradNorm,
            _clock.Elapsed, Message: o.Skipped ? $"step {State.Step}: non-finite loss or gradient, update skipped" : null) { Feature = o.Feature });
    }

    private void Validate()
    {
        ValidationResult result;
        model.Compute.eval();
        try
        {
            result = Validator.Run(model.Compute, val!, config.Objective, config.Trainer.MicroBatch, ChunkRows, teachers.Val);
            if (teachers.Val is ModelTeacher live)
            {
                var (rkl, answers) = OnPolicyValidation.Run(model.Compute, val!, live, _stopIds, config.Online.MaxNewTokens,
                    config.Trainer.MicroBatch, ChunkRows, _tokenizer);
                result = result with { OwnReverseKl = rkl, AnswerAccuracy = answers };
            }
        }
        finally
        {
            model.Compute.train();
        }
        LastValidation = result;
        var row = new Dictionary<string, object?>
        {
            ["step"] = State.Step, ["validation"] = true, ["loss"] = result.Loss, ["kd"] = result.Kd, ["sft"] = result.Sft,
            ["accuracy"] = result.Accuracy, ["top1_agreement"] = result.Top1Agreement, ["tokens"] = result.Tokens,
        };
        if (result.OwnReverseKl is { } ownKl) row["own_reverse_kl"] = ownKl;
        if (result.AnswerAccuracy is { } accuracy) row["answer_accuracy"] = accuracy;
        metrics.Write(row);
        progress?.Report(new TrainProgress(State.Step, config.Trainer.Steps, result.Loss, result.Kd, result.Sft, 0, 0, 0, _clock.Elapsed, result));
        if (State.BestValLoss is { } best && !(result.Loss < best)) return;
        State = State with { BestValLoss = result.Loss, BestStep = State.Step };
        if (config.Trainer.SaveInterval > 0) Save("best");
    }

    /// <summary>Writes the checkpoint of the current step (if not already there) and prunes old ones.</summary>
    public void Save(string reason)
    {
        if (Directory.Exists(Checkpoints.PathOf(config.Trainer.Out, State.Step))) return;
        LastCheckpoint = Checkpoints.Save(config.Trainer.Out, model, optimizer, State, features?.Projections);
        Checkpoints.Prune(config.Trainer.Out, config.Trainer.KeepLast, State.BestStep);
        progress?.Report(new TrainProgress(State.Step, config.Trainer.Steps, LastLoss, 0, 0, 0, 0, 0, _clock.Elapsed,
            Message: $"checkpoint ({reason}): {LastCheckpoint}"));
    }
}

/// <summary>What one optimizer step measured (all scalars: nothing of the step's tensors outlives it).</summary>
/// <param name="Loss">Global-batch objective of the step's forward passes, before the update.</param>
/// <param name="Kd">KD part.</param>
/// <param name="Sft">CE part.</param>
/// <param name="GradNorm">Global gradient L2 norm before clipping.</param>
/// <param name="Lr">Learning rate applied.</param>
/// <param name="Tokens">Real tokens in the global batch.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="Skipped">True when the update was skipped for a non-finite value.</param>
/// <param name="TeacherSeconds">Wall time spent asking the teacher.</param>
/// <param name="Generation">What on-policy sampling made in this step, or null when the run does not sample.</param>
internal sealed record StepOutcome(double Loss, double Kd, double Sft, double GradNorm, double Lr, long Tokens, double Seconds, bool Skipped,
    double TeacherSeconds, GenerationStats? Generation)
{
    /// <summary>The feature part (before its weight), or null when the run has no feature term.</summary>
    public double? Feature { get; init; }
}
