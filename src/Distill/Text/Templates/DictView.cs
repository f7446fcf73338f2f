namespace Distill.Text.Templates;

/// <summary>What dict.items(), keys() and values() return: iterable any number of times, sized, not subscriptable.</summary>
internal sealed class DictView(string kind, IReadOnlyList<object?> items)
{
    /// <summary>"dict_items", "dict_keys" or "dict_values".</summary>
    public string Kind { get; } = kind;

    public IReadOnlyList<object?> Items { get; } = items;
}
