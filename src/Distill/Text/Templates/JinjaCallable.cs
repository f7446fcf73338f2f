namespace Distill.Text.Templates;

/// <summary>
/// A function value: a global such as <c>raise_exception</c> (<see cref="Self"/> is null) or a method bound to
/// a string, dict, list or loop (<c>message.content.startswith</c>).
/// </summary>
internal sealed record JinjaCallable(string Name, object? Self, bool IsMethod);
