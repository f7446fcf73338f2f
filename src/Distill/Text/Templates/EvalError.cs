namespace Distill.Text.Templates;

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
