using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Distill.Training;

/// <summary>
/// Reads and writes recipes: YAML with the sections model, data, objective, online, optimizer and trainer, e.g.
/// <code>
/// objective:
///   kd_loss: fwd_kl
///   sft_weight: 0.4
/// optimizer:
///   lr: 2.0e-5
/// </code>
/// A key may also sit at the top level when its name belongs to one section only (<c>lr: 2e-5</c>). Unknown keys
/// are errors naming the key; <see cref="Override"/> applies <c>--set key=value</c> the same way.
/// </summary>
public static class TrainConfigYaml
{
    /// <summary>The file name of the resolved config in the output folder.</summary>
    public const string ResolvedFileName = "train_config.yaml";

    /// <summary>Reads a recipe file over <paramref name="baseConfig"/> (defaults when null).</summary>
    /// <exception cref="InvalidDataException">Bad YAML, an unknown key or a bad value; names the file and the key.</exception>
    public static TrainConfig Load(string path, TrainConfig? baseConfig = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: recipe not found", path);
        return Parse(File.ReadAllText(path, Encoding.UTF8), path, baseConfig);
    }

    /// <summary>Parses recipe text over <paramref name="baseConfig"/> (defaults when null); <paramref name="source"/> names it in errors.</summary>
    /// <inheritdoc cref="Load" path="/exception"/>
    public static TrainConfig Parse(string yaml, string source, TrainConfig? baseConfig = null)
    {
        var config = baseConfig ?? TrainConfig.Default;
        foreach (var (key, value, line) in Flatten(yaml, source))
            config = Apply(config, key, value, $"{source}:{line}");
        return config;
    }

    /// <summary>
    /// Applies <c>key=value</c> overrides in order; keys are "section.name" or a bare name unique to one section.
    /// <paramref name="where"/> names their origin in messages (the option that gave them).
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed override, an unknown key or a bad value.</exception>
    public static TrainConfig Override(TrainConfig config, IEnumerable<string> assignments, string where = "--set")
    {
        foreach (var assignment in assignments)
        {
            var eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new InvalidDataException($"{where} '{assignment}': expected key=value");
            var value = assignment[(eq + 1)..].Trim();
            config = Apply(config, assignment[..eq], value is "null" or "~" ? null : value, where);
        }
        return config;
    }

    /// <summary>The value of recipe key <paramref name="key"/> ("section.name") in <paramref name="config"/> as YAML text, "null" when unset.</summary>
    /// <exception cref="ArgumentException">No such key.</exception>
    public static string ValueOf(TrainConfig config, string key) =>
        (ConfigKeys.Find(key) ?? throw new ArgumentException($"unknown recipe key '{key}'", nameof(key))).Format(config);

    /// <summary>The config as YAML, every key written, sections in order, so the file can be used as a recipe again.</summary>
    public static string ToYaml(TrainConfig config)
    {
        var text = new StringBuilder();
        foreach (var section in ConfigKeys.Sections)
        {
            text.Append(section).Append(":\n");
            foreach (var key in ConfigKeys.All.Where(k => k.Section == section))
                text.Append("  ").Append(key.Name).Append(": ").Append(key.Format(config)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Writes <see cref="ToYaml"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(TrainConfig config, string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToYaml(config), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    private static TrainConfig Apply(TrainConfig config, string key, string? value, string where)
    {
        var entry = ConfigKeys.Find(key)
            ?? throw new InvalidDataException($"{where}: unknown key '{key}' (known: {string.Join(", ", ConfigKeys.All.Select(k => k.Path))})");
        try
        {
            return entry.Apply(config, value);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{where}: {entry.Path} = '{value}': {e.Message}", e);
        }
    }

    private static List<(string Key, string? Value, long Line)> Flatten(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}: not valid YAML: {e.Message}", e);
        }
        var entries = new List<(string, string?, long)>();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" or "~" or "null" })
            return entries;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new InvalidDataException($"{source}: the recipe must be a mapping of sections (model, data, objective, online, optimizer, trainer)");
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var name = Name(keyNode, source);
            if (ConfigKeys.Sections.Contains(name))
            {
                if (valueNode is YamlScalarNode s && IsNull(s)) continue;
                if (valueNode is not YamlMappingNode section)
                    throw new InvalidDataException($"{source}:{valueNode.Start.Line}: section '{name}' must be a mapping of keys");
                foreach (var (k, v) in section.Children)
                    entries.Add(($"{name}.{Name(k, source)}", Value(v, $"{name}.{Name(k, source)}", source), k.Start.Line));
            }
            else
            {
                entries.Add((name, Value(valueNode, name, source), keyNode.Start.Line));
            }
        }
        return entries;
    }

    private static string Name(YamlNode node, string source) => node is YamlScalarNode { Value: { } v }
        ? v
        : throw new InvalidDataException($"{source}:{node.Start.Line}: keys must be plain names");

    private static string? Value(YamlNode node, string key, string source) => node switch
    {
        YamlScalarNode s => IsNull(s) ? null : s.Value,
        YamlSequenceNode seq when seq.Children.All(c => c is YamlScalarNode) =>
            "[" + string.Join(", ", seq.Children.Select(c => ((YamlScalarNode)c).Value)) + "]",
        _ => throw new InvalidDataException($"{source}:{node.Start.Line}: {key}: expected a value or a list of values"),
    };

    private static bool IsNull(YamlScalarNode s) =>
        s.Style == ScalarStyle.Plain && s.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
