namespace Distill.Text.Templates;

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
