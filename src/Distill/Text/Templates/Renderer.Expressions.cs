namespace Distill.Text.Templates;

/// <summary>Expression evaluation and the global functions transformers gives templates.</summary>
internal sealed partial class Renderer
{
    // The sandbox's own limit on range(), which keeps loops and lists bounded.
    private const int MaxRange = 100_000;

    private static readonly Dictionary<string, object?> Globals = new(StringComparer.Ordinal)
    {
        ["raise_exception"] = new JinjaCallable("raise_exception", null, false),
        ["strftime_now"] = new JinjaCallable("strftime_now", null, false),
        ["namespace"] = new JinjaCallable("namespace", null, false),
        ["range"] = new JinjaCallable("range", null, false),
        ["dict"] = new JinjaCallable("dict", null, false),
        ["cycler"] = new JinjaCallable("cycler", null, false),
        ["joiner"] = new JinjaCallable("joiner", null, false),
        ["lipsum"] = new JinjaCallable("lipsum", null, false),
    };

    private object? Eval(Expr e, Scope scope)
    {
        try
        {
            return EvalCore(e, scope);
        }
        catch (EvalError err)
        {
            throw err.Unsupported ? TemplateErrors.Unsupported(_name, e.Line, err.Message) : new TemplateRenderException(_name, e.Line, err.Message);
        }
    }

    private object? EvalCore(Expr e, Scope scope)
    {
        switch (e)
        {
            case Expr.Literal l: return l.Value;
            case Expr.Name n: return scope.TryGet(n.Id, out var v) ? v : Globals.TryGetValue(n.Id, out var g) ? g : Undefined.Variable(n.Id);
            case Expr.GetAttr a: return Access.GetAttr(Eval(a.Target, scope), a.Attr);
            case Expr.GetItem i: return Access.GetItem(Eval(i.Target, scope), Eval(i.Index, scope));
            case Expr.Slice s:
                return Access.Slice(Eval(s.Target, scope), EvalOptional(s.Start, scope), EvalOptional(s.Stop, scope), EvalOptional(s.Step, scope));
            case Expr.Call c: return Call(c, scope);
            case Expr.Filter f: return Filters.Apply(f.FilterName, Eval(f.Value, scope), EvalArgs(f.FilterName, f.Args, scope));
            case Expr.Test t:
                var testArgs = EvalArgs(t.TestName, t.Args, scope);
                if (testArgs.Named.Count > 0) throw new EvalError("keyword arguments to a test", unsupported: true);
                return TestFunctions.Run(t.TestName, Eval(t.Value, scope), testArgs.Positional) != t.Negated;
            case Expr.Unary u: return Operators.Unary(u.Op, Eval(u.Operand, scope));
            case Expr.Binary { Op: "and" } b:
                var left = Eval(b.Left, scope);
                return PyValue.IsTrue(left) ? Eval(b.Right, scope) : left;
            case Expr.Binary { Op: "or" } b:
                var first = Eval(b.Left, scope);
                return PyValue.IsTrue(first) ? first : Eval(b.Right, scope);
            case Expr.Binary b: return Operators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case Expr.Compare c: return Compare(c, scope);
            case Expr.Conditional c:
                if (PyValue.IsTrue(Eval(c.Condition, scope))) return Eval(c.Then, scope);
                return c.Else is null ? new Undefined("the inline if-expression evaluated to false and no else section was defined") : Eval(c.Else, scope);
            case Expr.ListLiteral l: return l.Items.Select(x => Eval(x, scope)).ToList();
            case Expr.TupleLiteral t: return t.Items.Select(x => Eval(x, scope)).ToArray();
            case Expr.DictLiteral d:
                var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, val) in d.Pairs)
                {
                    var key = Eval(k, scope) as string ?? throw new EvalError("dict keys other than strings", unsupported: true);
                    dict[key] = Eval(val, scope);
                }
                return dict;
            default:
                throw new EvalError(e.GetType().Name, unsupported: true);
        }
    }

    private object? EvalOptional(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private CallArgs EvalArgs(string function, Arguments args, Scope scope) =>
        new(function, args.Positional.Select(a => Eval(a, scope)).ToList(), args.Named.Select(n => (n.Name, Eval(n.Value, scope))).ToList());

    private bool Compare(Expr.Compare c, Scope scope)
    {
        var left = Eval(c.First, scope);
        foreach (var (op, rightExpr) in c.Rest)
        {
            var right = Eval(rightExpr, scope);
            var holds = op switch
            {
                "==" => PyValue.PyEquals(left, right),
                "!=" => !PyValue.PyEquals(left, right),
                "<" => PyValue.Compare(left, right, op) < 0,
                "<=" => PyValue.Compare(left, right, op) <= 0,
                ">" => PyValue.Compare(left, right, op) > 0,
                ">=" => PyValue.Compare(left, right, op) >= 0,
                "in" => PyValue.Contains(right, left),
                _ => !PyValue.Contains(right, left),
            };
            if (!holds) return false;
            left = right;
        }
        return true;
    }

    private object? Call(Expr.Call c, Scope scope)
    {
        var callee = Eval(c.Callee, scope);
        if (callee is Undefined u) throw new EvalError(u.Hint);
        if (callee is not JinjaCallable f) throw new EvalError($"'{PyValue.TypeName(callee)}' object is not callable");
        var args = EvalArgs(f.Name, c.Args, scope);
        if (f.IsMethod) return Methods.Call(f, args);
        switch (f.Name)
        {
            case "raise_exception":
                var message = PyValue.Str(args.Expect("message").Get(0, "message", ""));
                throw new TemplateRenderException(_name, c.Line, message, message);
            case "strftime_now":
                return StrFTime.Format(_clock(), args.Expect("format").GetString(0, "format") ?? "");
            case "namespace" or "dict":
                return MakeMapping(f.Name, args);
            case "range":
                return Range(args);
            default:
                throw new EvalError($"the global function '{f.Name}'", unsupported: true);
        }
    }

    private static object MakeMapping(string kind, CallArgs args)
    {
        var values = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (args.Positional.Count > 1) throw new EvalError($"{kind}() takes at most one positional argument");
        if (args.Positional.Count == 1)
        {
            if (args.Positional[0] is not OrderedDictionary<string, object?> initial) throw new EvalError($"{kind}() positional argument must be a dict", unsupported: true);
            foreach (var (k, v) in initial) values[k] = v;
        }
        foreach (var (k, v) in args.Named) values[k] = v;
        if (kind == "dict") return values;
        var ns = new Namespace();
        foreach (var (k, v) in values) ns.Attributes[k] = v;
        return ns;
    }

    private static RangeValue Range(CallArgs args)
    {
        if (args.Named.Count > 0 || args.Positional.Count is 0 or > 3) throw new EvalError("range() takes 1 to 3 positional arguments");
        var p = args.Positional.Select(PyValue.ToLong).ToArray();
        var (start, stop, step) = p.Length == 1 ? (0, p[0], 1) : (p[0], p[1], p.Length == 3 ? p[2] : 1);
        if (step == 0) throw new EvalError("range() arg 3 must not be zero");
        var count = step > 0 ? ((Int128)stop - start + step - 1) / step : ((Int128)start - stop - step - 1) / -step;
        if (count > MaxRange) throw new EvalError($"range too big, maximum size for range is {MaxRange}");
        var list = new List<object?>();
        for (long i = 0; i < count; i++) list.Add(start + (i * step));
        return new RangeValue(start, stop, step, list);
    }
}
