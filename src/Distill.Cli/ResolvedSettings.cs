using System.Text.Json;
using Distill.Synthetic;
using Distill.Teachers;

namespace Distill.Cli;

/// <summary>
/// Every command that runs a job leaves its resolved settings (the library record, defaults filled in) beside what it
/// wrote, as <c>train</c> leaves <c>train_config.yaml</c>: what a run was asked to do stays with its output.
/// </summary>
internal static class ResolvedSettings
{
    /// <summary><c>topk_settings.json</c> in the cache folder; a slice of a sharded run writes <c>topk_settings.part-I-of-N.json</c>.</summary>
    public static string TopKPath(TopKOptions options) => Path.Combine(options.Output,
        options.Slice is { } s ? $"topk_settings.part-{s.Index}-of-{s.Count}.json" : "topk_settings.json");

    /// <summary>Beside the output JSONL, as its failed and rejected files are: <c>G.settings.json</c> for <c>G.jsonl</c>.</summary>
    public static string GeneratePath(GenerateOptions options) => Path.ChangeExtension(options.Output, ".settings.json");

    /// <summary>Writes <paramref name="settings"/> as JSON to <paramref name="path"/> (staged, then renamed, so it is whole or absent).</summary>
    public static void Write<T>(string path, T settings)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var staging = path + ".tmp";
        File.WriteAllText(staging, JsonSerializer.Serialize(settings, CliJson.Settings) + "\n");
        File.Move(staging, path, overwrite: true);
    }
}
