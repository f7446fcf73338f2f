namespace Distill.Text.Templates;

/// <summary>Python arithmetic on the interpreter's values (bool counts as int, / is true division, // and % floor).</summary>
internal static class Operators
{
    public static object? Binary(string op, object? a, object? b) => op switch
    {
        "+" => Add(a, b),
        "-" => Numeric(op, a, b),
        "*" => Multiply(a, b),
        "/" => Divide(a, b),
        "//" or "%" => FloorOrMod(op, a, b),
        "**" => Power(a, b),
        "~" => Limits.CheckString(PyValue.Str(a) + PyValue.Str(b)),
        _ => throw new EvalError($"operator '{op}'", unsupported: true),
    };

    private static void RejectUndefined(object? a, object? b)
    {
        if (a is Undefined u) throw new EvalError(u.Hint);
        if (b is Undefined v) throw new EvalError(v.Hint);
    }

    private static EvalError TypeError(string op, object? a, object? b) =>
        new($"unsupported operand type(s) for {op}: '{PyValue.TypeName(a)}' and '{PyValue.TypeName(b)}'");

    public static object? Add(object? a, object? b)
    {
        RejectUndefined(a, b);
        return (a, b) switch
        {
            (string x, string y) => Limits.CheckString(x + y),
            (List<object?> x, List<object?> y) => Limits.CheckList(x.Concat(y).ToList()),
            (object?[] x, object?[] y) => Limits.CheckList(x.Concat(y).ToList()).ToArray(),
            _ when PyValue.IsNumber(a) && PyValue.IsNumber(b) => Numeric("+", a, b),
            (string, _) => throw new EvalError($"can only concatenate str (not \"{PyValue.TypeName(b)}\") to str"),
            _ => throw TypeError("+", a, b),
        };
    }

    private static object? Numeric(string op, object? a, object? b)
    {
        RejectUndefined(a, b);
        if (!PyValue.IsNumber(a) || !PyValue.IsNumber(b)) throw TypeError(op, a, b);
        if (a is double || b is double)
        {
            var (x, y) = (PyValue.ToDouble(a), PyValue.ToDouble(b));
            return op == "+" ? x + y : x - y;
        }
        var (i, j) = (PyValue.ToLong(a), PyValue.ToLong(b));
        try
        {
            return checked(op == "+" ? i + j : i - j);
        }
        catch (OverflowException)
        {
            throw new EvalError("integer arithmetic beyond 64 bits", unsupported: true);
        }
    }

    private static object? Multiply(object? a, object? b)
    {
        RejectUndefined(a, b);
        if (a is string or List<object?> or object?[] && b is long or bool) return Repeat(a, PyValue.ToLong(b));
        if (b is string or List<object?> or object?[] && a is long or bool) return Repeat(b, PyValue.ToLong(a));
        if (!PyValue.IsNumber(a) || !PyValue.IsNumber(b)) throw TypeError("*", a, b);
        if (a is double || b is double) return PyValue.ToDouble(a) * PyValue.ToDouble(b);
        try
        {
            return checked(PyValue.ToLong(a) * PyValue.ToLong(b));
        }
        catch (OverflowException)
        {
            throw new EvalError("integer arithmetic beyond 64 bits", unsupported: true);
        }
    }

    private static object? Repeat(object? seq, long times)
    {
        times = Math.Max(times, 0);
        var unit = seq is string s ? s.Length : ((IReadOnlyList<object?>)seq!).Count;
        if (unit * times > Limits.MaxItems) throw new EvalError($"repetition would build more than {Limits.MaxItems} items");
        if (seq is string str) return string.Concat(Enumerable.Repeat(str, (int)times));
        var repeated = Enumerable.Repeat((IReadOnlyList<object?>)seq!, (int)times).SelectMany(x => x);
        return seq is object?[] ? repeated.ToArray() : repeated.ToList();
    }

    private static double Divide(object? a, object? b)
    {
        RejectUndefined(a, b);
        if (!PyValue.IsNumber(a) || !PyValue.IsNumber(b)) throw TypeError("/", a, b);
        var y = PyValue.ToDouble(b);
        if (y == 0) throw new EvalError("division by zero");
        return PyValue.ToDouble(a) / y;
    }

    private static object? FloorOrMod(string op, object? a, object? b)
    {
        if (a is string && op == "%") throw new EvalError("printf-style string formatting with %", unsupported: true);
        RejectUndefined(a, b);
        if (!PyValue.IsNumber(a) || !PyValue.IsNumber(b)) throw TypeError(op, a, b);
        if (a is double || b is double)
        {
            var (x, y) = (PyValue.ToDouble(a), PyValue.ToDouble(b));
            if (y == 0) throw new EvalError("float division by zero");
            if (op == "//") return Math.Floor(x / y);
            var r = x % y;
            if (r == 0) return Math.CopySign(0.0, y);
            return (r < 0) != (y < 0) ? r + y : r;
        }
        var (i, j) = (PyValue.ToLong(a), PyValue.ToLong(b));
        if (j == 0) throw new EvalError("integer division or modulo by zero");
        var div = i / j;
        var rem = i % j;
        if (rem != 0 && (rem < 0) != (j < 0))
        {
            div--;
            rem += j;
        }
        return op == "//" ? div : rem;
    }

    private static object? Power(object? a, object? b)
    {
        RejectUndefined(a, b);
        if (!PyValue.IsNumber(a) || !PyValue.IsNumber(b)) throw TypeError("**", a, b);
        if (a is double || b is double || PyValue.ToLong(b) < 0) return Math.Pow(PyValue.ToDouble(a), PyValue.ToDouble(b));
        long result = 1;
        var (x, n) = (PyValue.ToLong(a), PyValue.ToLong(b));
        try
        {
            // Square-and-multiply keeps huge exponents of 0, 1 and -1 fast; anything else overflows within 64 steps.
            while (n > 0)
            {
                if ((n & 1) == 1) result = checked(result * x);
                n >>= 1;
                if (n > 0) x = checked(x * x);
            }
        }
        catch (OverflowException)
        {
            throw new EvalError("integer arithmetic beyond 64 bits", unsupported: true);
        }
        return result;
    }

    public static object? Unary(string op, object? v)
    {
        if (op == "not") return !PyValue.IsTrue(v);
        if (v is Undefined u) throw new EvalError(u.Hint);
        return (op, v) switch
        {
            ("-", long l) => (object)(-l),
            ("-", double d) => -d,
            ("-", bool b) => b ? -1L : 0L,
            ("+", long or double) => v,
            ("+", bool b) => b ? 1L : 0L,
            _ => throw new EvalError($"bad operand type for unary {op}: '{PyValue.TypeName(v)}'"),
        };
    }
}
