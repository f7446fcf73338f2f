namespace Distill.Training;

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
