using System.Globalization;

namespace Distill.Text.Templates;

/// <summary>
/// Python semantics of the interpreter's values: null is None, bool, long (int), double (float), string,
/// List (list), object?[] (tuple), OrderedDictionary (dict), plus <see cref="Undefined"/>,
/// <see cref="Namespace"/>, <see cref="LoopContext"/> and <see cref="JinjaCallable"/>.
/// </summary>
internal static class PyValue
{
    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        OrderedDictionary<string, object?> d => d.Count > 0,
        DictView view => view.Items.Count > 0,
        RangeValue r => r.Items.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        OrderedDictionary<string, object?> => "dict",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        JinjaCallable => "function",
        GeneratorValue => "generator",
        RangeValue => "range",
        DictView view => view.Kind,
        _ => v.GetType().Name,
    };

    /// <summary>Python's str(): what <c>{{ v }}</c> prints.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's repr(), used for items inside printed lists and dicts.</summary>
    public static string Repr(object? v) => Repr(v, 0);

    private static string Repr(object? v, int depth)
    {
        Limits.CheckNesting(depth);
        return ReprCore(v, depth + 1);
    }

    private static string ReprCore(object? v, int depth) => v switch
    {
        null => "None",
        Undefined => "Undefined",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => PyStr.Repr(s),
        List<object?> l => "[" + Limits.Join(l.Select(x => Repr(x, depth)), ", ") + "]",
        object?[] t => t.Length == 1 ? "(" + Repr(t[0], depth) + ",)" : "(" + Limits.Join(t.Select(x => Repr(x, depth)), ", ") + ")",
        OrderedDictionary<string, object?> d => "{" + Limits.Join(d.Select(kv => PyStr.Repr(kv.Key) + ": " + Repr(kv.Value, depth)), ", ") + "}",
        Namespace n => "<Namespace " + Repr(new OrderedDictionary<string, object?>(n.Attributes), depth) + ">",
        LoopContext => "<LoopContext>",
        RangeValue r => r.ToString(),
        DictView view => view.Kind + "(" + Repr(view.Items.ToList(), depth) + ")",
        GeneratorValue => throw new EvalError("printing an iterator such as the result of map or select (Python shows its memory address); add |list", unsupported: true),
        JinjaCallable c => throw new EvalError($"printing the function '{c.Name}' (Python shows its memory address)", unsupported: true),
        _ => v.ToString() ?? "",
    };

    /// <summary>Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = Decompose(shortest);
        var sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16)
        {
            var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return $"{sign}{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }
        if (exponent < 0) return sign + "0." + new string('0', -exponent - 1) + digits;
        if (digits.Length <= exponent + 1) return sign + digits + new string('0', exponent + 1 - digits.Length) + ".0";
        return sign + digits[..(exponent + 1)] + "." + digits[(exponent + 1)..];
    }

    // "R" output such as "-1.2345E-05" or "123.45" as significant digits and the exponent of the first digit.
    private static (string Digits, int Exponent) Decompose(string s)
    {
        s = s.TrimStart('-');
        var exponent = 0;
        var e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? s : s[..dot];
        var frac = dot < 0 ? "" : s[(dot + 1)..];
        var all = intPart + frac;
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        var digits = all[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (digits, exponent + intPart.Length - 1 - lead);
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new EvalError($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>Python ==: 1 == 1.0 == True, lists and tuples compare by items but never with each other.</summary>
    public static bool PyEquals(object? a, object? b) => PyEquals(a, b, 0);

    private static bool PyEquals(object? a, object? b, int depth)
    {
        Limits.CheckNesting(depth);
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
            (List<object?> x, List<object?> y) => SequenceEquals(x, y, depth + 1),
            (object?[] x, object?[] y) => SequenceEquals(x, y, depth + 1),
            (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && PyEquals(kv.Value, other, depth + 1)),
            (JinjaCallable x, JinjaCallable y) => x.Name == y.Name && ReferenceEquals(x.Self, y.Self),
            _ => ReferenceEquals(a, b),
        };
    }

    private static bool SequenceEquals(IReadOnlyList<object?> x, IReadOnlyList<object?> y, int depth)
    {
        if (x.Count != y.Count) return false;
        for (var i = 0; i < x.Count; i++)
        {
            if (!PyEquals(x[i], y[i], depth)) return false;
        }
        return true;
    }

    public static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new EvalError($"expected an integer, got {TypeName(v)}"),
    };

    /// <summary>Python ordering (&lt;, &gt;): numbers, strings by code point, sequences lexicographically.</summary>
    public static int Compare(object? a, object? b, string op) => Compare(a, b, op, 0);

    private static int Compare(object? a, object? b, string op, int depth)
    {
        Limits.CheckNesting(depth);
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                var (x, y) = (ToDouble(a), ToDouble(b));
                if (double.IsNaN(x) || double.IsNaN(y)) throw new EvalError("comparison with nan");
                return x.CompareTo(y);
            }
            return ToLong(a).CompareTo(ToLong(b));
        }
        switch (a, b)
        {
            case (string x, string y):
                return CompareCodePoints(x, y);
            case (List<object?> x, List<object?> y):
                return CompareSequences(x, y, op, depth + 1);
            case (object?[] x, object?[] y):
                return CompareSequences(x, y, op, depth + 1);
        }
        if (a is Undefined u) throw new EvalError(u.Hint);
        if (b is Undefined v) throw new EvalError(v.Hint);
        throw new EvalError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static int CompareSequences(IReadOnlyList<object?> x, IReadOnlyList<object?> y, string op, int depth)
    {
        for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
        {
            if (!PyEquals(x[i], y[i], depth)) return Compare(x[i], y[i], op, depth);
        }
        return x.Count.CompareTo(y.Count);
    }

    private static int CompareCodePoints(string x, string y)
    {
        var i = 0;
        var j = 0;
        while (i < x.Length && j < y.Length)
        {
            var a = char.IsHighSurrogate(x[i]) && i + 1 < x.Length && char.IsLowSurrogate(x[i + 1]) ? char.ConvertToUtf32(x[i], x[i + 1]) : x[i];
            var b = char.IsHighSurrogate(y[j]) && j + 1 < y.Length && char.IsLowSurrogate(y[j + 1]) ? char.ConvertToUtf32(y[j], y[j + 1]) : y[j];
            if (a != b) return a.CompareTo(b);
            i += a > 0xFFFF ? 2 : 1;
            j += b > 0xFFFF ? 2 : 1;
        }
        return (x.Length - i).CompareTo(y.Length - j);
    }

    /// <summary>Python's <c>in</c>: substring, list membership, dict key; nothing is in undefined.</summary>
    public static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal)
            : throw new EvalError($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> l => l.Any(x => PyEquals(x, item)),
        object?[] t => t.Any(x => PyEquals(x, item)),
        OrderedDictionary<string, object?> d => item is List<object?> or OrderedDictionary<string, object?> or Namespace
            ? throw new EvalError($"unhashable type: '{TypeName(item)}'") : item is string k && d.ContainsKey(k),
        DictView view => view.Items.Any(x => PyEquals(x, item)),
        RangeValue r => r.Items.Any(x => PyEquals(x, item)),
        GeneratorValue g => ConsumeUntil(g, item),
        Undefined => false,
        _ => throw new EvalError($"argument of type '{TypeName(container)}' is not iterable"),
    };

    /// <summary>What a for loop, list() or join walks over: items, dict keys, code points of a string.</summary>
    public static IReadOnlyList<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        object?[] t => t,
        OrderedDictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => PyStr.CodePoints(s).Cast<object?>().ToList(),
        DictView view => view.Items,
        RangeValue r => r.Items,
        GeneratorValue g => g.Drain(),
        Undefined => [],
        _ => throw new EvalError($"'{TypeName(v)}' object is not iterable"),
    };

    // Python's "x in iterator" consumes items up to and including the first match.
    private static bool ConsumeUntil(GeneratorValue g, object? item)
    {
        while (g.TryNext(out var next))
        {
            if (PyEquals(next, item)) return true;
        }
        return false;
    }

    public static string Join(IEnumerable<object?> items, string separator) => Limits.Join(items.Select(Str), separator);
}
