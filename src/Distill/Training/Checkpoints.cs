using System.Globalization;
using Distill.Models;
using TorchSharp.Modules;

namespace Distill.Training;

/// <summary>
/// Checkpoint folders <c>out/checkpoints/step-NNNNNNNN/</c>: the fp32 master weights as a Hugging Face folder (usable
/// as a model on its own), <c>optimizer.bin</c> (TorchSharp's AdamW state), <c>trainer_state.json</c> and, when feature
/// distillation learns projections, <see cref="FeatureProjections.FileName"/>. A checkpoint is
/// assembled in a hidden staging folder and renamed into place, so a folder with the step name is always complete.
/// </summary>
public static class Checkpoints
{
    /// <summary>The optimizer state file inside a checkpoint.</summary>
    public const string OptimizerFile = "optimizer.bin";

    private const string Prefix = "step-";

    /// <summary>The checkpoints folder of an output folder.</summary>
    public static string Root(string outDir) => Path.Combine(outDir, "checkpoints");

    /// <summary>The folder of the checkpoint after <paramref name="step"/> steps.</summary>
    public static string PathOf(string outDir, int step) =>
        Path.Combine(Root(outDir), Prefix + step.ToString("D8", CultureInfo.InvariantCulture));

    /// <summary>Complete checkpoints in <paramref name="outDir"/> by step, oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outDir)
    {
        var root = Root(outDir);
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root, Prefix + "*")
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s), Step: s, Path: d))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.Path, TrainerState.FileName)))
            .OrderBy(c => c.Step)
            .Select(c => (c.Step, c.Path))
            .ToArray();
    }

    /// <summary>Writes the checkpoint of <paramref name="state"/>.Step unless it already exists; returns its folder.</summary>
    public static string Save(string outDir, TrainingModel model, OptimizerHelper optimizer, TrainerState state, FeatureProjections? projections = null)
    {
        var target = PathOf(outDir, state.Step);
        if (Directory.Exists(target)) return target;
        var staging = Path.Combine(Root(outDir), $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        try
        {
            NonFiniteGuard.CheckWeights(model.Master, $"checkpoint of step {state.Step}");
            HfModelFolder.Save(model.Master, staging);
            optimizer.save_state_dict(Path.Combine(staging, OptimizerFile));
            projections?.Save(staging);
            var files = Directory.GetFiles(staging).ToDictionary(f => Path.GetFileName(f), f => new FileInfo(f).Length, StringComparer.Ordinal);
            (state with { Files = files }).Save(Path.Combine(staging, TrainerState.FileName));
            Directory.Move(staging, target);
            return target;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Deletes the staging folders of saves that were killed midway; returns how many there were.</summary>
    public static int RemoveStaging(string outDir)
    {
        var root = Root(outDir);
        if (!Directory.Exists(root)) return 0;
        var stale = Directory.GetDirectories(root, $".{Prefix}*.partial-*");
        foreach (var folder in stale) Directory.Delete(folder, recursive: true);
        return stale.Length;
    }

    /// <summary>Renames a damaged checkpoint to a hidden <c>.step-N.damaged-…</c> folder that no listing or resume sees; returns its new path.</summary>
    public static string SetAside(string path)
    {
        var aside = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.damaged-{Guid.NewGuid():N}");
        Directory.Move(path, aside);
        return aside;
    }

    /// <summary>
    /// Why the checkpoint at <paramref name="path"/> cannot be resumed from (its state unreadable, a file missing or of
    /// another size than the state records), naming the file; null when it looks complete.
    /// </summary>
    public static string? FindProblem(string path)
    {
        TrainerState state;
        try
        {
            state = TrainerState.Load(Path.Combine(path, TrainerState.FileName));
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return e.Message;
        }
        foreach (var (name, size) in state.Files ?? new Dictionary<string, long>())
        {
            var file = Path.Combine(path, name);
            if (!File.Exists(file)) return $"{file}: missing from the checkpoint";
            var actual = new FileInfo(file).Length;
            if (actual != size) return $"{file}: {actual} bytes but the checkpoint recorded {size} (truncated or damaged)";
        }
        return null;
    }

    /// <summary>Deletes all but the newest <paramref name="keepLast"/> checkpoints, never the one of <paramref name="bestStep"/>.</summary>
    public static void Prune(string outDir, int keepLast, int? bestStep)
    {
        var all = List(outDir);
        foreach (var (step, path) in all.Take(Math.Max(all.Count - keepLast, 0)))
            if (step != bestStep) Directory.Delete(path, recursive: true);
    }
}
