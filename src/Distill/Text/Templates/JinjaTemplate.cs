namespace Distill.Text.Templates;

/// <summary>
/// A Jinja2 template parsed once and rendered many times, with the environment transformers uses for chat
/// templates: sandboxed and immutable, trim_blocks and lstrip_blocks on, break/continue, a <c>tojson</c> that
/// keeps non-ASCII text and key order, and the globals <c>raise_exception(message)</c> and
/// <c>strftime_now(format)</c>. Constructs outside that subset throw <see cref="NotSupportedException"/>
/// naming the construct and line rather than rendering something different from Jinja2. A parsed template is
/// immutable and may be rendered from several threads at once.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    private JinjaTemplate(string source, string name, IReadOnlyList<Stmt> body)
    {
        Source = source;
        Name = name;
        _body = body;
    }

    /// <summary>The template text as given.</summary>
    public string Source { get; }

    /// <summary>The name used in error messages.</summary>
    public string Name { get; }

    /// <summary>Parses <paramref name="source"/>; syntax errors raise <see cref="InvalidDataException"/> with line and column.</summary>
    public static JinjaTemplate Parse(string source, string name = "template")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        return new JinjaTemplate(source, name, Parser.Parse(source, name));
    }

    /// <summary>
    /// Renders with <paramref name="context"/> as the template's variables. Values may be strings, numbers,
    /// bools, null, dictionaries with string keys, lists, JSON elements or nodes, and <see cref="ChatMessage"/>s.
    /// Failures inside the template raise <see cref="TemplateRenderException"/>.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> context) => Render(context, () => DateTime.Now);

    internal string Render(IReadOnlyDictionary<string, object?> context, Func<DateTime> clock)
    {
        ArgumentNullException.ThrowIfNull(context);
        var scope = new Scope(null);
        foreach (var (key, value) in context) scope.Set(key, ValueConverter.ToValue(value));
        return new Renderer(Name, clock).Render(_body, scope);
    }
}
