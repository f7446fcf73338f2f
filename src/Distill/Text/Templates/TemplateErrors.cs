namespace Distill.Text.Templates;

/// <summary>Builds the exceptions of the interpreter so every message names the template and the line.</summary>
internal static class TemplateErrors
{
    public static InvalidDataException Syntax(string template, int line, int column, string reason) =>
        new($"Template '{template}' line {line}, column {column}: {reason}");

    public static NotSupportedException Unsupported(string template, int line, string construct) =>
        new($"Template '{template}' line {line}: {construct} is not supported by Distill's Jinja interpreter");
}

/// <summary>
/// Raised by the value helpers, which do not know the template line; the renderer turns it into a
/// <see cref="TemplateRenderException"/> (or a <see cref="NotSupportedException"/> when <see cref="Unsupported"/>)
/// naming the template and the line of the expression.
/// </summary>
internal sealed class EvalError : Exception
{
    public EvalError(string message, bool unsupported = false) : base(message) => Unsupported = unsupported;

    public EvalError() : base("evaluation failed") { }

    public EvalError(string message, Exception inner) : base(message, inner) { }

    public bool Unsupported { get; }
}

/// <summary>
/// A template failed while rendering: it called <c>raise_exception(message)</c> (then <see cref="RaisedMessage"/>
/// holds the template's own message, e.g. Mistral's "conversation roles must alternate"), or it used an undefined
/// value or mismatched types where Jinja2 would also fail.
/// </summary>
public sealed class TemplateRenderException : Exception
{
    public TemplateRenderException(string templateName, int line, string reason, string? raisedMessage = null)
        : base($"Template '{templateName}' line {line}: {reason}")
    {
        TemplateName = templateName;
        Line = line;
        RaisedMessage = raisedMessage;
    }

    public TemplateRenderException() : base("template rendering failed") => TemplateName = "";

    public TemplateRenderException(string message) : base(message) => TemplateName = "";

    public TemplateRenderException(string message, Exception inner) : base(message, inner) => TemplateName = "";

    /// <summary>The name given to <see cref="JinjaTemplate.Parse"/>, e.g. the model folder's template.</summary>
    public string TemplateName { get; }

    /// <summary>1-based line of the failing expression in the template source.</summary>
    public int Line { get; }

    /// <summary>The argument of <c>raise_exception</c> when the template raised deliberately; otherwise null.</summary>
    public string? RaisedMessage { get; }
}
