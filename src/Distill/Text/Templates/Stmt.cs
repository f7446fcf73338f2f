namespace Distill.Text.Templates;

/// <summary>Statement nodes of a parsed template.</summary>
internal abstract record Stmt(int Line)
{
    internal sealed record Text(string Value, int Line) : Stmt(Line);

    internal sealed record Output(Expr Value, int Line) : Stmt(Line);

    internal sealed record If(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt>? Else, int Line) : Stmt(Line);

    internal sealed record For(AssignTarget Target, Expr Iterable, Expr? Condition, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else, int Line) : Stmt(Line);

    internal sealed record Set(AssignTarget Target, Expr Value, int Line) : Stmt(Line);

    internal sealed record SetBlock(string Name, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

    internal sealed record Break(int Line) : Stmt(Line);

    internal sealed record Continue(int Line) : Stmt(Line);
}

/// <summary>
/// Left side of a set or for: one name, several names to unpack, or a namespace attribute
/// (<c>ns.attr</c>, then <see cref="Names"/> holds just the namespace variable).
/// </summary>
internal sealed record AssignTarget(IReadOnlyList<string> Names, string? Attribute);
