using Distill.Losses;
using Distill.Models;
using Distill.Text.Tokenization;

namespace Distill.Training;

/// <summary>Checks, before any compute, that the training data can be fed to the student.</summary>
public static class StudentCompatibility
{
    /// <summary>
    /// Token ids inside the student's vocabulary; for a logit cache also: a teacher vocabulary that differs from the
    /// student's by padding only, teacher ids the student can index, and (when both are known) the same tokenizer.
    /// </summary>
    /// <exception cref="InvalidDataException">The data does not fit the student; the message names both sides.</exception>
    public static void Check(LlamaConfig student, string studentDir, IExampleSource source)
    {
        var vocab = student.VocabSize;
        if (source is CacheExampleSource cache)
        {
            CheckCache(student, studentDir, cache);
            var (min, max) = cache.InputIdRange();
            CheckIds(source.Name, min, max, vocab);
            return;
        }
        var (lowest, highest) = (0, 0);
        for (long i = 0; i < source.Count; i++)
            foreach (var id in source.Example(i).InputIds)
                (lowest, highest) = (Math.Min(lowest, id), Math.Max(highest, id));
        CheckIds(source.Name, lowest, highest, vocab);
    }

    /// <summary>The student's <see cref="HfTokenizer.Fingerprint"/>, or null when its folder has no tokenizer.json.</summary>
    public static string? TokenizerFingerprint(string modelDir) =>
        File.Exists(Path.Combine(modelDir, "tokenizer.json")) ? HfTokenizer.Load(modelDir).Fingerprint : null;

    private static void CheckCache(LlamaConfig student, string studentDir, CacheExampleSource cache)
    {
        var manifest = cache.Manifest;
        var (teacherVocab, vocab) = (manifest.Teacher.VocabSize, student.VocabSize);
        if (Math.Abs(teacherVocab - vocab) > VocabAlignment.MaxPaddingRows)
            throw new InvalidDataException(
                $"{cache.Name}: the teacher's vocabulary has {teacherVocab} tokens but the student ({studentDir}) has {vocab}; " +
                "that is a different tokenizer, not padding");
        if (teacherVocab > vocab && cache.MaxTeacherId() is var maxId && maxId >= vocab)
            throw new InvalidDataException($"{cache.Name}: a teacher top-K id {maxId} is outside the student's vocabulary of {vocab} (from {studentDir})");
        var fingerprint = TokenizerFingerprint(studentDir);
        var cached = manifest.TokenizerFingerprint.Replace("sha256:", "", StringComparison.Ordinal);
        if (fingerprint is not null && cached.Length == 64 && cached != fingerprint)
            throw new InvalidDataException(
                $"{cache.Name}: tokenizer_fingerprint {manifest.TokenizerFingerprint} does not match the student's tokenizer ({studentDir}: sha256:{fingerprint}); " +
                "the cache was tokenized with a different tokenizer");
    }

    private static void CheckIds(string name, int min, int max, int vocab)
    {
        if (min < 0) throw new InvalidDataException($"{name}: token id {min} is negative");
        if (max >= vocab) throw new InvalidDataException($"{name}: token id {max} is outside the student's vocabulary of {vocab}");
    }
}
