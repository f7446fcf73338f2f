using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The teachers of one run: none (plain SFT), the cached top-K of a logit cache (its validation from the validation
/// cache), or a live model teacher that serves training and validation alike.
/// </summary>
public sealed class TrainingTeachers : IDisposable
{
    private TrainingTeachers(ITeacher? train, ITeacher? val)
    {
        Train = train;
        Val = val;
    }

    /// <summary>The teacher of the training batches, or null for plain SFT.</summary>
    public ITeacher? Train { get; }

    /// <summary>The teacher of the validation batches, or null.</summary>
    public ITeacher? Val { get; }

    /// <summary>True when the run has a teacher for its training data (a cache, or <c>model.teacher</c>).</summary>
    public static bool HasTeacher(TrainConfig config, IExampleSource train) => train is CacheExampleSource || config.Model.HasLiveTeacher;

    /// <summary>
    /// Checks, before any weight is loaded, that a live teacher can teach this student: a vocabulary that differs from the
    /// student's by padding only, and the same tokenizer when both folders have one.
    /// </summary>
    /// <exception cref="InvalidDataException">A cache and a teacher given together, or a teacher that does not fit; names both folders.</exception>
    public static void Check(TrainConfig config, IExampleSource train, IExampleSource? val, LlamaConfig student)
    {
        if (config.Model.TeacherUrl is { } url && (train is CacheExampleSource || val is CacheExampleSource))
            throw new InvalidDataException($"train config: model.teacher_url = {url} and a logit cache as data were given together; give JSONL data for a served teacher");
        if (config.Model.Teacher is not { } dir) return;
        if (train is CacheExampleSource || val is CacheExampleSource)
            throw new InvalidDataException($"train config: model.teacher = {dir} and a logit cache as data ({(train is CacheExampleSource ? train.Name : val!.Name)}) " +
                "were given together; give JSONL data for a live teacher, or drop the teacher to train from the cache");
        var teacher = LlamaConfig.Load(Path.Combine(dir, "config.json"));
        if (Math.Abs(teacher.VocabSize - student.VocabSize) > VocabAlignment.MaxPaddingRows)
            throw new InvalidDataException($"{dir}: the teacher's vocabulary has {teacher.VocabSize} tokens but the student ({config.Model.Student}) has " +
                $"{student.VocabSize}; that is a different tokenizer, not padding (cross-tokenizer distillation is not supported)");
        var (t, s) = (StudentCompatibility.TokenizerFingerprint(dir), StudentCompatibility.TokenizerFingerprint(config.Model.Student));
        if (t is not null && s is not null && t != s)
            throw new InvalidDataException($"{dir}: the teacher's tokenizer (sha256:{t}) differs from the student's ({config.Model.Student}: sha256:{s}); " +
                "both must tokenize the data identically (cross-tokenizer distillation is not supported)");
        if (config.Feature.Enabled) FeatureDistillation.Check(config.Feature, student, teacher);
    }

    /// <summary>The feature term of a run with <c>feature.loss</c> set (its live teacher open), else null.</summary>
    public FeatureDistillation? Features(TrainConfig config, LlamaConfig student, Device device) =>
        config.Feature.Enabled && Train is ModelTeacher teacher
            ? new FeatureDistillation(config.Feature, teacher, student, config.Trainer.Seed, device)
            : null;

    /// <summary>Opens the teachers of a run whose config has been through <see cref="Trainer.Resolve"/> and <see cref="Check"/>.</summary>
    public static TrainingTeachers Open(TrainConfig config, IExampleSource train, IExampleSource? val, Device device)
    {
        if (config.Model.TeacherUrl is { } url)
        {
            var student = LlamaConfig.Load(Path.Combine(config.Model.Student, HfModelFolder.ConfigFile));
            var served = RemoteTeacher.Connect(url, config.Model.TeacherModel, config.Model.TeacherTopK,
                Text.Tokenization.HfTokenizer.Load(config.Model.Student), student.VocabSize);
            return new TrainingTeachers(served, val is null ? null : served);
        }
        if (config.Model.Teacher is { } dir)
        {
            var teacher = ModelTeacher.Load(dir, device, config.Model.TeacherComputeDType, config.Model.TeacherTopK);
            return new TrainingTeachers(teacher, val is null ? null : teacher);
        }
        return new TrainingTeachers(train is CacheExampleSource c ? new CachedTeacher(c) : null, val is CacheExampleSource v ? new CachedTeacher(v) : null);
    }

    /// <summary>Disposes the teachers (a live teacher's model once).</summary>
    public void Dispose()
    {
        Train?.Dispose();
        if (!ReferenceEquals(Val, Train)) Val?.Dispose();
    }
}
