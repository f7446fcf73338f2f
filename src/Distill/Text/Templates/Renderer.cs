using System.Text;

namespace Distill.Text.Templates;

/// <summary>Runs a parsed template's statements against a scope, writing the output.</summary>
internal sealed partial class Renderer
{
    private readonly string _name;
    private readonly Func<DateTime> _clock;
    private StringBuilder _out = new();
    private long _iterations;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public Renderer(string name, Func<DateTime> clock)
    {
        _name = name;
        _clock = clock;
    }

    public string Render(IReadOnlyList<Stmt> body, Scope scope)
    {
        Execute(body, scope);
        return _out.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope)
    {
        foreach (var stmt in body)
        {
            var flow = ExecuteOne(stmt, scope);
            if (flow != Flow.Normal) return flow;
            if (_out.Length > Limits.MaxChars) throw new TemplateRenderException(_name, stmt.Line, $"output exceeds {Limits.MaxChars} characters");
        }
        return Flow.Normal;
    }

    private Flow ExecuteOne(Stmt stmt, Scope scope)
    {
        switch (stmt)
        {
            case Stmt.Text t:
                _out.Append(t.Value);
                return Flow.Normal;
            case Stmt.Output o:
                var value = Eval(o.Value, scope);
                _out.Append(Guard(o.Line, () => PyValue.Str(value)));
                return Flow.Normal;
            case Stmt.If i:
                foreach (var (test, branch) in i.Branches)
                {
                    if (PyValue.IsTrue(Eval(test, scope))) return Execute(branch, scope);
                }
                return i.Else is null ? Flow.Normal : Execute(i.Else, scope);
            case Stmt.For f:
                ExecuteFor(f, scope);
                return Flow.Normal;
            case Stmt.Set s:
                Assign(s.Target, Eval(s.Value, scope), scope, s.Line);
                return Flow.Normal;
            case Stmt.SetBlock b:
                var saved = _out;
                _out = new StringBuilder();
                Execute(b.Body, scope);
                scope.Set(b.Name, _out.ToString());
                _out = saved;
                return Flow.Normal;
            case Stmt.Break:
                return Flow.Break;
            case Stmt.Continue:
                return Flow.Continue;
            default:
                throw TemplateErrors.Unsupported(_name, stmt.Line, stmt.GetType().Name);
        }
    }

    private void ExecuteFor(Stmt.For f, Scope scope)
    {
        var source = Eval(f.Iterable, scope);
        IReadOnlyList<object?> items = Guard(f.Line, () => PyValue.Iterate(source));
        if (f.Condition is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Assign(f.Target, item, probe, f.Line);
                if (PyValue.IsTrue(Eval(f.Condition, probe))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Execute(f.Else, scope);
            return;
        }
        var loop = new LoopContext(items);
        for (var i = 0; i < items.Count; i++)
        {
            if (++_iterations > Limits.MaxIterations) throw new TemplateRenderException(_name, f.Line, $"more than {Limits.MaxIterations} loop iterations");
            loop.Index0 = i;
            var iteration = new Scope(scope);
            Assign(f.Target, items[i], iteration, f.Line);
            iteration.Set("loop", loop);
            if (Execute(f.Body, iteration) == Flow.Break) break;
        }
    }

    private void Assign(AssignTarget target, object? value, Scope scope, int line)
    {
        if (target.Attribute is not null)
        {
            var owner = scope.TryGet(target.Names[0], out var o) ? o : null;
            if (owner is not Namespace ns) throw new TemplateRenderException(_name, line, $"cannot assign attribute on non-namespace object '{target.Names[0]}'");
            ns.Attributes[target.Attribute] = value;
            return;
        }
        if (target.Names.Count == 1)
        {
            scope.Set(target.Names[0], value);
            return;
        }
        var parts = Guard(line, () => PyValue.Iterate(value));
        if (parts.Count != target.Names.Count)
        {
            throw new TemplateRenderException(_name, line, $"cannot unpack {parts.Count} values into {target.Names.Count} names");
        }
        for (var i = 0; i < parts.Count; i++) scope.Set(target.Names[i], parts[i]);
    }

    private T Guard<T>(int line, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (EvalError e)
        {
            throw e.Unsupported ? TemplateErrors.Unsupported(_name, line, e.Message) : new TemplateRenderException(_name, line, e.Message);
        }
    }
}
