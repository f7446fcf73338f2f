namespace Distill.Training;

/// <summary>
/// The output folder of a run before its first step: what is left from earlier runs is either resumed, refused, or (with
/// <c>overwrite</c>) replaced, and never silently overwritten.
/// </summary>
public static class RunFolder
{
    /// <summary>
    /// Deletes checkpoint staging folders a killed save left behind; refuses a folder holding a
    /// previous run's <c>final/</c> or <c>metrics.jsonl</c> unless <c>resume</c> (with checkpoints) or <c>overwrite</c>;
    /// and with <c>resume</c> picks the newest complete checkpoint, falling back past damaged ones. What the user should
    /// hear (a fallback, nothing to resume) is added to <paramref name="notes"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder is in use by another run, or the checkpoint does not fit this run.</exception>
    public static (string Path, TrainerState State)? Prepare(TrainConfig config, string dataIdentity, ICollection<string> notes)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(notes);
        var t = config.Trainer;
        var stale = Checkpoints.RemoveStaging(t.Out);
        if (stale > 0) notes.Add($"{Checkpoints.Root(t.Out)}: removed {stale} partial checkpoint folder(s) left by an interrupted save");
        var checkpoints = Checkpoints.List(t.Out);
        if (checkpoints.Count > 0 && !t.Resume)
            throw new InvalidDataException($"{t.Out}: the output folder already holds checkpoints; set resume (--resume) to continue, or choose another folder");
        if (checkpoints.Count == 0)
        {
            var previous = new[] { Trainer.FinalFolder, MetricsLog.FileName }.Where(f => Path.Exists(Path.Combine(t.Out, f))).ToArray();
            if (previous.Length > 0 && !t.Overwrite)
                throw new InvalidDataException($"{t.Out}: the output folder holds a previous run's {string.Join(" and ", previous)} and no checkpoint to resume; " +
                    "set overwrite (--overwrite) to replace them, or choose another folder");
            if (t.Resume) notes.Add($"{t.Out}: no checkpoint to resume from; starting at step 1");
            return null;
        }
        for (var i = checkpoints.Count - 1; i >= 0; i--)
        {
            var path = checkpoints[i].Path;
            var problem = Checkpoints.FindProblem(path);
            if (problem is null) return (path, Fits(config, path, dataIdentity));
            // Set aside, not deleted (it may be worth a look), and out of the way of the save that redoes its step.
            var aside = Checkpoints.SetAside(path);
            notes.Add((i > 0
                ? $"{problem}; resuming from the older checkpoint {checkpoints[i - 1].Path} instead"
                : $"{problem}; no older checkpoint, starting at step 1") + $" (the damaged one is now {aside})");
        }
        return null;
    }

    /// <summary>
    /// After a run failed or was cancelled: when it left no checkpoint, deletes the metrics and resolved config it wrote
    /// (and the output folder if that leaves it empty), so nothing blocks or misleads a rerun; otherwise keeps everything
    /// a <c>resume</c> continues from.
    /// </summary>
    public static void RemoveIfNothingToResume(string outDir)
    {
        if (Checkpoints.List(outDir).Count > 0) return;
        foreach (var file in new[] { MetricsLog.FileName, TrainConfigYaml.ResolvedFileName })
            File.Delete(Path.Combine(outDir, file));
        var root = Checkpoints.Root(outDir);
        if (Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
        if (Directory.Exists(outDir) && !Directory.EnumerateFileSystemEntries(outDir).Any()) Directory.Delete(outDir);
    }

    private static TrainerState Fits(TrainConfig config, string path, string dataIdentity)
    {
        var t = config.Trainer;
        var state = TrainerState.Load(Path.Combine(path, TrainerState.FileName));
        if (state.Seed != t.Seed)
            throw new InvalidDataException($"{path}: trainer.seed = {t.Seed} but the checkpoint was trained with seed {state.Seed}; the data order would differ");
        if (state.GlobalBatch != t.GlobalBatch)
            throw new InvalidDataException($"{path}: trainer.global_batch = {t.GlobalBatch} but the checkpoint was trained with {state.GlobalBatch}");
        if (state.Step > t.Steps)
            throw new InvalidDataException($"{path}: the checkpoint is at step {state.Step}, beyond trainer.steps = {t.Steps}");
        if (state.DataIdentity is { } trained && trained != dataIdentity)
            throw new InvalidDataException($"{path}: the checkpoint was trained on other data ({trained}) than {config.Data.Path} ({dataIdentity}); " +
                "resume with the same data, or start a new run in another folder");
        return state;
    }
}
