using System.Globalization;

namespace Distill.Text.Templates;

/// <summary>
/// What <c>range()</c> returns: a sized, indexable, re-iterable sequence that prints as <c>range(0, 3)</c> and,
/// unlike a list, cannot be added to lists or serialised to JSON.
/// </summary>
internal sealed class RangeValue(long start, long stop, long step, IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;

    public override string ToString() => step == 1
        ? string.Create(CultureInfo.InvariantCulture, $"range({start}, {stop})")
        : string.Create(CultureInfo.InvariantCulture, $"range({start}, {stop}, {step})");
}
