namespace Distill.Text.Templates;

/// <summary>Expression nodes of a parsed template; each carries its template line for error messages.</summary>
internal abstract record Expr(int Line)
{
    internal sealed record Literal(object? Value, int Line) : Expr(Line);

    internal sealed record Name(string Id, int Line) : Expr(Line);

    internal sealed record GetAttr(Expr Target, string Attr, int Line) : Expr(Line);

    internal sealed record GetItem(Expr Target, Expr Index, int Line) : Expr(Line);

    internal sealed record Slice(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

    internal sealed record Call(Expr Callee, Arguments Args, int Line) : Expr(Line);

    internal sealed record Filter(Expr Value, string FilterName, Arguments Args, int Line) : Expr(Line);

    internal sealed record Test(Expr Value, string TestName, Arguments Args, bool Negated, int Line) : Expr(Line);

    /// <summary>"-", "+" or "not".</summary>
    internal sealed record Unary(string Op, Expr Operand, int Line) : Expr(Line);

    /// <summary>Arithmetic, "~", and the short-circuit "and"/"or".</summary>
    internal sealed record Binary(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

    /// <summary>A chain such as a &lt; b &lt;= c, with "in" and "not in" among the operators.</summary>
    internal sealed record Compare(Expr First, IReadOnlyList<(string Op, Expr Right)> Rest, int Line) : Expr(Line);

    /// <summary>then if test else otherwise; a missing else yields undefined, as in Jinja2.</summary>
    internal sealed record Conditional(Expr Condition, Expr Then, Expr? Else, int Line) : Expr(Line);

    internal sealed record ListLiteral(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

    internal sealed record TupleLiteral(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

    internal sealed record DictLiteral(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line) : Expr(Line);
}

/// <summary>Positional and keyword arguments of a call, filter or test.</summary>
internal sealed record Arguments(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Named)
{
    public static readonly Arguments None = new([], []);
}
