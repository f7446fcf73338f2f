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
