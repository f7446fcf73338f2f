using System.Globalization;

namespace Distill.Training;

/// <summary>Which student layer learns from which teacher layer (0-based decoder layers), for feature distillation.</summary>
/// <param name="Pairs">(student layer, teacher layer), one pair per student layer at most, in the order given.</param>
public sealed record LayerMap(IReadOnlyList<(int Student, int Teacher)> Pairs)
{
    /// <summary>
    /// Every student layer s to teacher layer ⌈(s + 1)·Lt / Ls⌉ − 1: evenly spaced, the last to the last (2 of 4 gives
    /// 0:1, 1:3).
    /// </summary>
    public static LayerMap Default(int studentLayers, int teacherLayers) =>
        new(Enumerable.Range(0, studentLayers).Select(s => (s, ((s + 1) * teacherLayers + studentLayers - 1) / studentLayers - 1)).ToArray());

    /// <summary>Parses "s:t,s:t,..." against the layer counts; null or empty gives <see cref="Default"/>.</summary>
    /// <exception cref="InvalidDataException">Malformed, a layer that does not exist, or a student layer mapped twice.</exception>
    public static LayerMap Parse(string? text, int studentLayers, int teacherLayers)
    {
        if (string.IsNullOrWhiteSpace(text)) return Default(studentLayers, teacherLayers);
        var pairs = new List<(int, int)>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                throw Bad(text, $"'{item}' is not student:teacher (two layer numbers, e.g. 3:7)");
            if (s >= studentLayers) throw Bad(text, $"student layer {s} does not exist (the student has layers 0..{studentLayers - 1})");
            if (t >= teacherLayers) throw Bad(text, $"teacher layer {t} does not exist (the teacher has layers 0..{teacherLayers - 1})");
            if (pairs.Any(p => p.Item1 == s)) throw Bad(text, $"student layer {s} is mapped twice");
            pairs.Add((s, t));
        }
        return new LayerMap(pairs);
    }

    /// <summary>The map in the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => string.Join(",", Pairs.Select(p => $"{p.Student}:{p.Teacher}"));

    private static InvalidDataException Bad(string text, string reason) => new($"train config: feature.layer_map = {text}: {reason}");
}
