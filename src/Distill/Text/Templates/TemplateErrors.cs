namespace Distill.Text.Templates;

/// <summary>Builds the exceptions of the interpreter so every message names the template and the line.</summary>
internal static class TemplateErrors
{
    public static InvalidDataException Syntax(string template, int line, int column, string reason) =>
        new($"Template '{template}' line {line}, column {column}: {reason}");

    public static NotSupportedException Unsupported(string template, int line, string construct) =>
        new($"Template '{template}' line {line}: {construct} is not supported by Distill's Jinja interpreter");
}
