namespace Distill.Text.Templates;

/// <summary>
/// Variables visible at a point of the template. Each for-loop iteration gets a child scope, so a
/// <c>set</c> inside a loop is gone after the iteration, as in Jinja2 (hence templates use namespace()).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars.TryGetValue(name, out value)) return true;
        }
        value = null;
        return false;
    }

    public Scope? Parent { get; } = parent;

    public void Set(string name, object? value) => _vars[name] = value;
}
