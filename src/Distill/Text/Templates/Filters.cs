using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace Distill.Text.Templates;

/// <summary>Jinja2's built-in filters as chat templates use them, with transformers' own <c>tojson</c>.</summary>
internal static partial class Filters
{
    private static readonly HashSet<string> Names =
        ["abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "indent", "int", "items", "join",
         "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round",
         "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount"];

    public static bool IsKnown(string name) => Names.Contains(name);

    public static object? Apply(string name, object? value, CallArgs args)
    {
        switch (name)
        {
            case "d" or "default":
                args.Expect("default_value", "boolean");
                var useDefault = value is Undefined || (args.GetBool(1, "boolean", false) && !PyValue.IsTrue(value));
                return useDefault ? args.Get(0, "default_value", "") : value;
            case "length" or "count":
                args.Expect();
                return Length(value);
            case "tojson":
                args.Expect("ensure_ascii", "indent", "separators", "sort_keys");
                return PyJson.Dumps(value, args.GetBool(0, "ensure_ascii", false), args.Get(1, "indent"), args.Get(2, "separators"), args.GetBool(3, "sort_keys", false));
            case "string": args.Expect(); return PyValue.Str(value);
            case "safe": args.Expect(); return value;
            case "list": args.Expect(); return PyValue.Iterate(value).ToList();
            case "first": args.Expect(); return First(value);
            case "last": args.Expect(); return Last(value);
            case "items": args.Expect(); return Items(value);
            case "reverse": args.Expect(); return Reverse(value);
            case "abs": args.Expect(); return Abs(value);
            case "int" or "float" when value is Undefined u: throw new EvalError(u.Hint);
            case "int": return ToInt(value, args.Expect("default", "base"));
            case "float": return ToFloat(value, args.Expect("default").Get(0, "default", 0.0));
            case "round": return Round(value, args.Expect("precision", "method"));
            case "join": return Join(value, args.Expect("d", "attribute"));
            case "map" or "select" or "reject" or "selectattr" or "rejectattr" or "sort" or "unique" or "sum" or "min" or "max":
                return SequenceFilters.Apply(name, value, args);
        }
        if (name == "indent" && value is not string) throw new EvalError($"indent needs a string, not {PyValue.TypeName(value)}");
        return ApplyText(name, PyValue.Str(value), args);
    }

    private static object? ApplyText(string name, string s, CallArgs args)
    {
        switch (name)
        {
            case "trim": return PyStr.Strip(s, args.Expect("chars").GetString(0, "chars"));
            case "upper": args.Expect(); return PyCase.Upper(s);
            case "lower": args.Expect(); return PyCase.Lower(s);
            case "title": args.Expect(); return PyStr.TitleFilter(s);
            case "capitalize": args.Expect(); return PyStr.Capitalize(s);
            case "replace":
                args.Expect("old", "new", "count");
                var count = args.Get(2, "count") is null ? -1 : args.GetLong(2, "count", -1);
                return PyStr.Replace(s, PyValue.Str(args.Get(0, "old", "")), PyValue.Str(args.Get(1, "new", "")), count);
            case "indent": return Indent(s, args.Expect("width", "first", "blank"));
            case "wordcount": args.Expect(); return (long)WordRegex().Count(s);
            case "e" or "escape":
                args.Expect();
                return s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
                    .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal)
                    .Replace("'", "&#39;", StringComparison.Ordinal);
            default:
                throw new EvalError($"the filter '{name}'", unsupported: true);
        }
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();

    public static long Length(object? value) => value switch
    {
        string s => PyStr.Length(s),
        IReadOnlyList<object?> l => l.Count,
        OrderedDictionary<string, object?> d => d.Count,
        DictView view => view.Items.Count,
        RangeValue r => r.Items.Count,
        Namespace n => n.Attributes.Count,
        Undefined => 0,
        _ => throw new EvalError($"object of type '{PyValue.TypeName(value)}' has no len()"),
    };

    private static object? First(object? value)
    {
        if (value is GeneratorValue g) return g.TryNext(out var next) ? next : new Undefined("No first item, sequence was empty.");
        var items = PyValue.Iterate(value);
        return items.Count > 0 ? items[0] : new Undefined("No first item, sequence was empty.");
    }

    private static object? Last(object? value)
    {
        if (value is Undefined) return new Undefined("No last item, sequence was empty.");
        if (value is GeneratorValue) throw new EvalError("'generator' object is not reversible");
        var items = PyValue.Iterate(value);
        return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
    }

    private static object? Items(object? value) => value switch
    {
        Undefined => new GeneratorValue([]),
        OrderedDictionary<string, object?> d => new GeneratorValue(d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList()),
        _ => new GeneratorValue(() => throw new EvalError("Can only get item pairs from a mapping.")),
    };

    private static object? Reverse(object? value) => value switch
    {
        string s => string.Concat(PyStr.CodePoints(s).AsEnumerable().Reverse()),
        _ => new GeneratorValue(PyValue.Iterate(value).Reverse().ToList()),
    };

    private static object? Abs(object? value) => value switch
    {
        long l => (object)Math.Abs(l),
        double d => Math.Abs(d),
        bool b => b ? 1L : 0L,
        _ => throw new EvalError($"bad operand type for abs(): '{PyValue.TypeName(value)}'"),
    };

    private static object? ToInt(object? value, CallArgs args)
    {
        var fallback = args.Get(0, "default", 0L);
        var numberBase = args.GetLong(1, "base", 10);
        switch (value)
        {
            case long or bool: return PyValue.ToLong(value);
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case string s:
                var t = PyStr.Strip(s, null).Replace("_", "", StringComparison.Ordinal);
                if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                if (numberBase != 10) throw new EvalError("the int filter's base argument", unsupported: true);
                return ParseFloat(t) is double f && double.IsFinite(f) ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        double d => d,
        long or bool => PyValue.ToDouble(value),
        string s => ParseFloat(PyStr.Strip(s, null).Replace("_", "", StringComparison.Ordinal)) ?? fallback,
        _ => fallback,
    };

    private static double? ParseFloat(string s)
    {
        var lower = s.ToLowerInvariant().TrimStart('+', '-');
        if (lower is "inf" or "infinity" or "nan") return double.Parse(s.StartsWith('-') ? "-" + lower : lower, CultureInfo.InvariantCulture);
        return s.Length > 0 && (char.IsAsciiDigit(s[^1]) || s[^1] == '.')
            && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    private static object? Round(object? value, CallArgs args)
    {
        var precision = args.GetLong(0, "precision", 0);
        var method = args.GetString(1, "method", "common");
        if (precision is < 0 or > 15) throw new EvalError("round precision outside 0..15", unsupported: true);
        if (method == "common")
        {
            if (value is long or bool) return PyValue.ToLong(value);
            return RoundHalfEven(PyValue.ToDouble(value), (int)precision);
        }
        var scale = Math.Pow(10, precision);
        var x = PyValue.ToDouble(value) * scale;
        return method switch
        {
            "ceil" => Math.Ceiling(x) / scale,
            "floor" => Math.Floor(x) / scale,
            _ => throw new EvalError("method must be common, ceil or floor"),
        };
    }

    // Python's round(x, n): half-to-even on the exact binary value of x, then the nearest double to the
    // decimal result (so round(2.675, 2) is 2.67, because 2.675 is stored as 2.67499999...).
    private static double RoundHalfEven(double x, int digits)
    {
        if (!double.IsFinite(x) || x == 0) return x;
        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = exponent == 0 ? fraction : fraction | (1L << 52);
        var power = exponent == 0 ? -1074 : exponent - 1075;
        if (power >= 0) return x;
        var denominator = BigInteger.One << -power;
        var quotient = BigInteger.DivRem(mantissa * BigInteger.Pow(10, digits), denominator, out var remainder);
        var twice = remainder * 2;
        if (twice > denominator || (twice == denominator && !quotient.IsEven)) quotient += 1;
        var text = (bits < 0 ? "-" : "") + quotient.ToString(CultureInfo.InvariantCulture) + "E-" + digits.ToString(CultureInfo.InvariantCulture);
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static string Join(object? value, CallArgs args)
    {
        var separator = PyValue.Str(args.Get(0, "d", ""));
        var attribute = args.Get(1, "attribute");
        var items = PyValue.Iterate(value).AsEnumerable();
        if (attribute is not null) items = items.Select(x => SequenceFilters.LookupPath(x, attribute));
        return PyValue.Join(items, separator);
    }

    // Jinja2 3.1's indent: a trailing newline is appended so splitlines keeps the last line, lines after the
    // first get the indent unless blank, and "first" indents the first line too.
    private static string Indent(string s, CallArgs args)
    {
        var width = args.Get(0, "width", 4L);
        var indentation = width is string w ? w : new string(' ', (int)Math.Clamp(PyValue.ToLong(width), 0, 1024));
        var lines = PyStr.SplitLines(s + "\n");
        var sb = new StringBuilder();
        if (args.GetBool(2, "blank", false))
        {
            sb.AppendJoin("\n" + indentation, lines);
        }
        else
        {
            sb.Append(lines.Count > 0 ? lines[0] : "");
            for (var i = 1; i < lines.Count; i++) sb.Append('\n').Append(lines[i].Length > 0 ? indentation + lines[i] : "");
        }
        return args.GetBool(1, "first", false) ? indentation + sb : sb.ToString();
    }
}
