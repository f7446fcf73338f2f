using Distill.Losses;
using static Distill.Training.ConfigValues;

namespace Distill.Training;

/// <summary>Every recipe key, in the order the resolved config is written.</summary>
internal static class ConfigKeys
{
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        new("model", "student", c => Show(c.Model.Student), (c, v) => c with { Model = c.Model with { Student = Str(v) } }),
        new("model", "device", c => Show(c.Model.Device), (c, v) => c with { Model = c.Model with { Device = Str(v) } }),
        new("model", "dtype", c => Show(c.Model.DType), (c, v) => c with { Model = c.Model with { DType = Str(v) } }),
        new("model", "teacher", c => Show(c.Model.Teacher), (c, v) => c with { Model = c.Model with { Teacher = NullableString(v) } }),
        new("model", "teacher_dtype", c => Show(c.Model.TeacherDType), (c, v) => c with { Model = c.Model with { TeacherDType = NullableString(v) } }),
        new("model", "teacher_top_k", c => Show(c.Model.TeacherTopK), (c, v) => c with { Model = c.Model with { TeacherTopK = NullableInt(v) } }),
        new("model", "teacher_url", c => Show(c.Model.TeacherUrl), (c, v) => c with { Model = c.Model with { TeacherUrl = NullableString(v) } }),
        new("model", "teacher_model", c => Show(c.Model.TeacherModel), (c, v) => c with { Model = c.Model with { TeacherModel = NullableString(v) } }),

        new("data", "path", c => Show(c.Data.Path), (c, v) => c with { Data = c.Data with { Path = Str(v) } }),
        new("data", "val_data", c => Show(c.Data.ValData), (c, v) => c with { Data = c.Data with { ValData = NullableString(v) } }),
        new("data", "top_k", c => Show(c.Data.TopK), (c, v) => c with { Data = c.Data with { TopK = NullableInt(v) } }),
        new("data", "chat_format", c => Show(c.Data.ChatFormat), (c, v) => c with { Data = c.Data with { ChatFormat = NullableString(v) } }),
        new("data", "verify", c => Show(c.Data.Verify), (c, v) => c with { Data = c.Data with { Verify = Bool(v) } }),
        new("data", "max_seq_len", c => Show(c.Data.MaxSeqLen), (c, v) => c with { Data = c.Data with { MaxSeqLen = NullableInt(v) } }),
        new("data", "supervise", c => Show(c.Data.Supervise), (c, v) => c with { Data = c.Data with { Supervise = SuperviseValue(v) } }),
        new("data", "skip_bad", c => Show(c.Data.SkipBad), (c, v) => c with { Data = c.Data with { SkipBad = Bool(v) } }),

        new("objective", "kd_loss", c => Show(KdObjective.Name(c.Objective.Kind)), (c, v) => c with { Objective = c.Objective with { Kind = Kind(v) } }),
        new("objective", "kd_weight", c => Show(c.Objective.KdWeight), (c, v) => c with { Objective = c.Objective with { KdWeight = Double(v) } }),
        new("objective", "sft_weight", c => Show(c.Objective.SftWeight), (c, v) => c with { Objective = c.Objective with { SftWeight = Double(v) } }),
        new("objective", "logits_scale", c => Show(c.Objective.LogitsScale), (c, v) => c with { Objective = c.Objective with { LogitsScale = Double(v) } }),
        new("objective", "target_logits_scale", c => Show(c.Objective.TargetLogitsScale), (c, v) => c with { Objective = c.Objective with { TargetLogitsScale = Double(v) } }),
        new("objective", "temperature", c => Show(c.Objective.Temperature), (c, v) => c with { Objective = c.Objective with { Temperature = Double(v) } }),
        new("objective", "t_squared", c => Show(c.Objective.TSquared), (c, v) => c with { Objective = c.Objective with { TSquared = Bool(v) } }),
        new("objective", "beta", c => Show(c.Objective.Beta), (c, v) => c with { Objective = c.Objective with { Beta = Double(v) } }),

        new("online", "lambda", c => Show(c.Online.Lambda), (c, v) => c with { Online = c.Online with { Lambda = Double(v) } }),
        new("online", "seq_kd", c => Show(c.Online.SeqKd), (c, v) => c with { Online = c.Online with { SeqKd = Bool(v) } }),
        new("online", "max_new_tokens", c => Show(c.Online.MaxNewTokens), (c, v) => c with { Online = c.Online with { MaxNewTokens = Int(v) } }),
        new("online", "gen_temperature", c => Show(c.Online.GenTemperature), (c, v) => c with { Online = c.Online with { GenTemperature = Double(v) } }),
        new("online", "gen_top_p", c => Show(c.Online.GenTopP), (c, v) => c with { Online = c.Online with { GenTopP = Double(v) } }),
        new("online", "gen_top_k", c => Show(c.Online.GenTopK), (c, v) => c with { Online = c.Online with { GenTopK = Int(v) } }),

        new("feature", "loss", c => Show(FeatureOptions.Name(c.Feature.Loss)), (c, v) => c with { Feature = c.Feature with { Loss = FeatureOptions.Parse<FeatureLossKind>(v) } }),
        new("feature", "weight", c => Show(c.Feature.Weight), (c, v) => c with { Feature = c.Feature with { Weight = Double(v) } }),
        new("feature", "layer_map", c => Show(c.Feature.LayerMap), (c, v) => c with { Feature = c.Feature with { LayerMap = NullableString(v) } }),
        new("feature", "tokens", c => Show(FeatureOptions.Name(c.Feature.Tokens)), (c, v) => c with { Feature = c.Feature with { Tokens = FeatureOptions.Parse<FeatureTokens>(v) } }),
        new("feature", "heads", c => Show(FeatureOptions.Name(c.Feature.Heads)), (c, v) => c with { Feature = c.Feature with { Heads = FeatureOptions.Parse<AttentionHeads>(v) } }),

        new("optimizer", "lr", c => Show(c.Optimizer.Lr), (c, v) => c with { Optimizer = c.Optimizer with { Lr = Double(v) } }),
        new("optimizer", "min_lr", c => Show(c.Optimizer.MinLr), (c, v) => c with { Optimizer = c.Optimizer with { MinLr = Double(v) } }),
        new("optimizer", "schedule", c => Show(c.Optimizer.Schedule), (c, v) => c with { Optimizer = c.Optimizer with { Schedule = Schedule(v) } }),
        new("optimizer", "warmup_steps", c => Show(c.Optimizer.WarmupSteps), (c, v) => c with { Optimizer = c.Optimizer with { WarmupSteps = Int(v) } }),
        new("optimizer", "weight_decay", c => Show(c.Optimizer.WeightDecay), (c, v) => c with { Optimizer = c.Optimizer with { WeightDecay = Double(v) } }),
        new("optimizer", "betas", c => $"[{Show(c.Optimizer.Beta1)}, {Show(c.Optimizer.Beta2)}]", (c, v) => WithBetas(c, Pair(v))),
        new("optimizer", "eps", c => Show(c.Optimizer.Eps), (c, v) => c with { Optimizer = c.Optimizer with { Eps = Double(v) } }),
        new("optimizer", "grad_clip", c => Show(c.Optimizer.GradClip), (c, v) => c with { Optimizer = c.Optimizer with { GradClip = Double(v) } }),

        new("trainer", "out", c => Show(c.Trainer.Out), (c, v) => c with { Trainer = c.Trainer with { Out = Str(v) } }),
        new("trainer", "steps", c => Show(c.Trainer.Steps), (c, v) => c with { Trainer = c.Trainer with { Steps = Int(v) } }),
        new("trainer", "global_batch", c => Show(c.Trainer.GlobalBatch), (c, v) => c with { Trainer = c.Trainer with { GlobalBatch = Int(v) } }),
        new("trainer", "micro_batch", c => Show(c.Trainer.MicroBatch), (c, v) => c with { Trainer = c.Trainer with { MicroBatch = Int(v) } }),
        new("trainer", "seed", c => Show(c.Trainer.Seed), (c, v) => c with { Trainer = c.Trainer with { Seed = Long(v) } }),
        new("trainer", "chunk_size", c => Show(c.Trainer.ChunkSize), (c, v) => c with { Trainer = c.Trainer with { ChunkSize = Int(v) } }),
        new("trainer", "chunk_elements", c => Show(c.Trainer.ChunkElements), (c, v) => c with { Trainer = c.Trainer with { ChunkElements = Long(v) } }),
        new("trainer", "val_interval", c => Show(c.Trainer.ValInterval), (c, v) => c with { Trainer = c.Trainer with { ValInterval = Int(v) } }),
        new("trainer", "save_interval", c => Show(c.Trainer.SaveInterval), (c, v) => c with { Trainer = c.Trainer with { SaveInterval = Int(v) } }),
        new("trainer", "keep_last", c => Show(c.Trainer.KeepLast), (c, v) => c with { Trainer = c.Trainer with { KeepLast = Int(v) } }),
        new("trainer", "resume", c => Show(c.Trainer.Resume), (c, v) => c with { Trainer = c.Trainer with { Resume = Bool(v) } }),
        new("trainer", "skip_nonfinite", c => Show(c.Trainer.SkipNonfinite), (c, v) => c with { Trainer = c.Trainer with { SkipNonfinite = Bool(v) } }),
        new("trainer", "max_skipped_fraction", c => Show(c.Trainer.MaxSkippedFraction), (c, v) => c with { Trainer = c.Trainer with { MaxSkippedFraction = Double(v) } }),
        new("trainer", "overwrite", c => Show(c.Trainer.Overwrite), (c, v) => c with { Trainer = c.Trainer with { Overwrite = Bool(v) } }),
    ];

    /// <summary>The section names, in order.</summary>
    public static IReadOnlyList<string> Sections { get; } = All.Select(k => k.Section).Distinct().ToArray();

    /// <summary>Finds a key by "section.name", or by its bare name when exactly one section has it; null when unknown.</summary>
    public static ConfigKey? Find(string key)
    {
        var trimmed = key.Trim().Replace('-', '_');
        return All.FirstOrDefault(k => k.Path == trimmed) ?? All.SingleOrDefault(k => k.Name == trimmed);
    }

    private static KdLossKind Kind(string? text)
    {
        try
        {
            return KdObjective.ParseKind(text ?? "");
        }
        catch (InvalidDataException)
        {
            throw new FormatException("expected one of " + KdObjective.Names);
        }
    }

    private static TrainConfig WithBetas(TrainConfig c, (double Beta1, double Beta2) betas) =>
        c with { Optimizer = c.Optimizer with { Beta1 = betas.Beta1, Beta2 = betas.Beta2 } };
}

/// <summary>
/// One recipe key: its section and name, how its value is written, and how a text value is applied to a config.
/// The table of these (<see cref="ConfigKeys"/>) is the single source of the recipe's key set.
/// </summary>
/// <param name="Section">YAML section (model, data, objective, optimizer, trainer).</param>
/// <param name="Name">Key inside the section, snake_case.</param>
/// <param name="Format">The key's value in a config, as YAML text.</param>
/// <param name="Apply">Returns the config with the key set from text (null for YAML null); throws <see cref="FormatException"/> on a bad value.</param>
internal sealed record ConfigKey(string Section, string Name, Func<TrainConfig, string> Format, Func<TrainConfig, string?, TrainConfig> Apply)
{
    /// <summary>"section.name".</summary>
    public string Path => $"{Section}.{Name}";
}
