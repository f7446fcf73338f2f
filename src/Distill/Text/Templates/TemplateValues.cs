using System.Globalization;

namespace Distill.Text.Templates;

/// <summary>
/// Jinja2's default Undefined: prints as "", is falsy, iterates as empty and has length 0, but any attribute,
/// item, call or arithmetic on it fails with <see cref="Hint"/> as the message.
/// </summary>
internal sealed class Undefined(string hint)
{
    public string Hint { get; } = hint;

    public static Undefined Variable(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, string name) => new($"'{PyValue.TypeName(owner)} object' has no attribute '{name}'");

    public override string ToString() => "";
}

/// <summary>What dict.items(), keys() and values() return: iterable any number of times, sized, not subscriptable.</summary>
internal sealed class DictView(string kind, IReadOnlyList<object?> items)
{
    /// <summary>"dict_items", "dict_keys" or "dict_values".</summary>
    public string Kind { get; } = kind;

    public IReadOnlyList<object?> Items { get; } = items;
}

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

/// <summary>The object made by <c>namespace(...)</c>: the one value templates may assign attributes to across loop scopes.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A function value: a global such as <c>raise_exception</c> (<see cref="Self"/> is null) or a method bound to
/// a string, dict, list or loop (<c>message.content.startswith</c>).
/// </summary>
internal sealed record JinjaCallable(string Name, object? Self, bool IsMethod);
