namespace Distill.Text.Templates;

/// <summary>
/// A one-shot Python iterator, as filters such as map, select, selectattr, unique, items and reverse return.
/// Like a Python generator it does its work (and raises its errors) only when first consumed, can be iterated
/// once (a second pass sees nothing), is always truthy, has no length, and cannot be printed (Python shows its
/// memory address), so templates pass it through |list, |join or a loop.
/// </summary>
internal sealed class GeneratorValue(Func<IReadOnlyList<object?>> produce)
{
    private IReadOnlyList<object?>? _items;
    private int _next;

    public GeneratorValue(IReadOnlyList<object?> items) : this(() => items) { }

    private IReadOnlyList<object?> Items => _items ??= produce();

    /// <summary>Everything not yet consumed; consumes it.</summary>
    public IReadOnlyList<object?> Drain()
    {
        var rest = Items.Skip(_next).ToList();
        _next = Items.Count;
        return rest;
    }

    /// <summary>The next item, or false when exhausted.</summary>
    public bool TryNext(out object? item)
    {
        if (_next < Items.Count)
        {
            item = Items[_next++];
            return true;
        }
        item = null;
        return false;
    }
}
