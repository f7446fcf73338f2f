namespace Distill.Text.Templates;

/// <summary>Evaluated arguments of a call, filter or test, bound to Python-style parameters by position or name.</summary>
internal sealed class CallArgs(string function, IReadOnlyList<object?> positional, IReadOnlyList<(string Name, object? Value)> named)
{
    public static readonly CallArgs Empty = new("", [], []);

    public IReadOnlyList<object?> Positional { get; } = positional;

    public IReadOnlyList<(string Name, object? Value)> Named { get; } = named;

    public int Count => Positional.Count + Named.Count;

    /// <summary>Fails like Python when arguments are given that <paramref name="parameters"/> does not name.</summary>
    public CallArgs Expect(params string[] parameters)
    {
        if (Positional.Count > parameters.Length)
        {
            throw new EvalError($"{function}() takes at most {parameters.Length} arguments ({Positional.Count} given)");
        }
        foreach (var (name, _) in Named)
        {
            var at = Array.IndexOf(parameters, name);
            if (at < 0) throw new EvalError($"{function}() got an unexpected keyword argument '{name}'");
            if (at < Positional.Count) throw new EvalError($"{function}() got multiple values for argument '{name}'");
        }
        return this;
    }

    public bool Has(int index, string name) => index < Positional.Count || Named.Any(n => n.Name == name);

    public object? Get(int index, string name, object? fallback = null)
    {
        if (index >= 0 && index < Positional.Count) return Positional[index];
        foreach (var (n, v) in Named)
        {
            if (n == name) return v;
        }
        return fallback;
    }

    public string? GetString(int index, string name, string? fallback = null)
    {
        var v = Get(index, name, fallback);
        return v switch
        {
            null => null,
            string s => s,
            _ => throw new EvalError($"{function}(): '{name}' must be a string, not {PyValue.TypeName(v)}"),
        };
    }

    public long GetLong(int index, string name, long fallback)
    {
        var v = Get(index, name, fallback);
        return v is long or bool ? PyValue.ToLong(v) : throw new EvalError($"{function}(): '{name}' must be an integer, not {PyValue.TypeName(v)}");
    }

    public bool GetBool(int index, string name, bool fallback) => PyValue.IsTrue(Get(index, name, fallback));
}
