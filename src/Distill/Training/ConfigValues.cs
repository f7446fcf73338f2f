using System.Globalization;
using System.Text.Json;

namespace Distill.Training;

/// <summary>Text ↔ value conversions for recipe keys; parse failures are <see cref="FormatException"/>s saying what was expected.</summary>
internal static class ConfigValues
{
    public static string Show(string? value) => value is null ? "null" : JsonSerializer.Serialize(value);

    public static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Show(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Show(long? value) => value is null ? "null" : Show(value.Value);

    public static string Show(bool value) => value ? "true" : "false";

    public static string Str(string? text) => text ?? throw new FormatException("expected a string, got null");

    public static string? NullableString(string? text) => string.IsNullOrEmpty(text) ? null : text;

    public static double Double(string? text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        throw new FormatException("expected a number");
    }

    public static int Int(string? text)
    {
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        throw new FormatException(long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? $"expected an integer of at most {int.MaxValue}"
            : "expected an integer");
    }

    public static long Long(string? text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        throw new FormatException("expected an integer");
    }

    public static int? NullableInt(string? text) => text is null or "" or "null" ? null : Int(text);

    public static bool Bool(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw new FormatException("expected true or false"),
    };

    /// <summary>Two numbers: "[0.9, 0.95]" or "0.9,0.95".</summary>
    public static (double, double) Pair(string? text)
    {
        var parts = (text ?? "").Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2) throw new FormatException("expected two numbers, e.g. [0.9, 0.999]");
        return (Double(parts[0]), Double(parts[1]));
    }

    public static ScheduleKind Schedule(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "cosine" => ScheduleKind.Cosine,
        "linear" => ScheduleKind.Linear,
        "constant" => ScheduleKind.Constant,
        _ => throw new FormatException("expected cosine, linear or constant"),
    };

    public static string Show(ScheduleKind kind) => kind.ToString().ToLowerInvariant();

    public static Text.Conversations.Supervise SuperviseValue(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "all" => Text.Conversations.Supervise.All,
        "last" => Text.Conversations.Supervise.Last,
        _ => throw new FormatException("expected all or last"),
    };

    public static string Show(Text.Conversations.Supervise value) => value.ToString().ToLowerInvariant();
}
