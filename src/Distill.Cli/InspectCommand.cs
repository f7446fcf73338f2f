using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.LogitCache;
using Distill.Models;

namespace Distill.Cli;

internal static class InspectCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("model-dir") { Description = "Hugging Face model folder (config.json, model.safetensors, tokenizer files), or a logit cache folder" };
        var json = CommonOptions.Json("Print the summary as JSON");
        var noVerify = CommonOptions.NoVerify();
        var command = new Command("inspect", "Show a model folder's architecture, size, dtype and special tokens without loading its weights; or a logit cache's statistics");
        command.Arguments.Add(dir);
        command.Options.Add(json);
        command.Options.Add(noVerify);
        command.SetAction(parsed => CliErrors.Run(parsed, "distill inspect", () =>
        {
            var path = parsed.GetValue(dir)!;
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: folder not found");
            if (CacheInspection.IsCache(path))
                return CacheInspection.Run(parsed, path, parsed.GetValue(json), !parsed.GetValue(noVerify), CliJson.Summary);
            var summary = HfModelInspector.Inspect(path);
            parsed.InvocationConfiguration.Output.Write(parsed.GetValue(json) ? JsonSerializer.Serialize(summary, CliJson.Summary) + "\n" : Format(summary));
            return 0;
        }));
        return command;
    }

    private static string Format(ModelSummary s)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        void Line(string key, string value) => text.Append(c, $"{key,-14}{value}\n");
        Line("folder", s.Directory);
        Line("architecture", s.ModelType is null ? s.Architecture : $"{s.Architecture} ({s.ModelType})");
        Line("parameters", s.ParameterCount is { } n ? $"{n.ToString("N0", c)} ({n / 1e6:0.##} M)" : "no weight files");
        Line("dtype", $"config {s.ConfigDtype ?? "unset"}; weights {(s.WeightDtypes.Count > 0 ? string.Join(", ", s.WeightDtypes) : "none")} in {s.WeightFiles} file(s)");
        Line("vocab", s.VocabSize.ToString(c));
        Line("layers", s.Layers.ToString(c));
        if (s.StudentInit is { } made) Line("made from", made);
        Line("hidden", $"{s.HiddenSize} (MLP {s.IntermediateSize})");
        Line("heads", $"{s.AttentionHeads} query, {s.KeyValueHeads} key/value, head_dim {s.HeadDim}");
        Line("tied", s.TiedEmbeddings ? "yes (lm_head shares embed_tokens)" : "no");
        Line("context", $"{s.MaxPositionEmbeddings} (rope theta {s.RopeTheta.ToString(c)}, scaling {s.RopeScaling})");
        text.Append("special tokens\n");
        if (s.SpecialTokens.Count == 0) text.Append("  none declared\n");
        foreach (var t in s.SpecialTokens)
        {
            var ids = t.Ids is null ? null : string.Join(", ", t.Ids);
            var value = t.Text is null ? ids : ids is null ? $"\"{t.Text}\"" : $"\"{t.Text}\" ({ids})";
            text.Append(c, $"  {t.Role,-4} {value,-24} from {t.Source}\n");
        }
        return text.ToString();
    }
}
