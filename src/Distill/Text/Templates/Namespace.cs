namespace Distill.Text.Templates;

/// <summary>The object made by <c>namespace(...)</c>: the one value templates may assign attributes to across loop scopes.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
