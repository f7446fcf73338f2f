namespace Distill.Text.Templates;

/// <summary>Jinja2's built-in tests (<c>x is defined</c>, <c>x is equalto y</c>, ...).</summary>
internal static class TestFunctions
{
    private static readonly HashSet<string> Names =
        ["defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float",
         "boolean", "true", "false", "callable", "equalto", "eq", "==", "ne", "!=", "lt", "<", "le", "<=", "gt", ">",
         "ge", ">=", "lessthan", "greaterthan", "in", "odd", "even", "divisibleby", "sameas", "lower", "upper"];

    public static bool IsKnown(string name) => Names.Contains(name);

    public static bool Run(string name, object? value, IReadOnlyList<object?> args)
    {
        object? Arg()
        {
            if (args.Count != 1) throw new EvalError($"the test '{name}' takes exactly one argument");
            return args[0];
        }

        void NoArgs()
        {
            if (args.Count != 0) throw new EvalError($"the test '{name}' takes no arguments");
        }

        switch (name)
        {
            case "equalto" or "eq" or "==": return PyValue.PyEquals(value, Arg());
            case "ne" or "!=": return !PyValue.PyEquals(value, Arg());
            case "lt" or "<" or "lessthan": return PyValue.Compare(value, Arg(), "<") < 0;
            case "le" or "<=": return PyValue.Compare(value, Arg(), "<=") <= 0;
            case "gt" or ">" or "greaterthan": return PyValue.Compare(value, Arg(), ">") > 0;
            case "ge" or ">=": return PyValue.Compare(value, Arg(), ">=") >= 0;
            case "in": return PyValue.Contains(Arg(), value);
            case "sameas": return SameAs(value, Arg());
            case "divisibleby": return PyValue.PyEquals(Operators.Binary("%", value, Arg()), 0L);
        }
        NoArgs();
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "string" => value is string,
            "mapping" => value is OrderedDictionary<string, object?>,
            "iterable" => value is string or List<object?> or object?[] or OrderedDictionary<string, object?> or Undefined or GeneratorValue or DictView or RangeValue,
            "sequence" => value is string or List<object?> or object?[] or OrderedDictionary<string, object?> or Undefined or RangeValue,
            "number" => PyValue.IsNumber(value),
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "callable" => value is JinjaCallable,
            "odd" => PyValue.PyEquals(Operators.Binary("%", value, 2L), 1L),
            "even" => PyValue.PyEquals(Operators.Binary("%", value, 2L), 0L),
            "lower" => PyValue.Str(value) is var s && s.Any(char.IsLower) && !s.Any(char.IsUpper),
            "upper" => PyValue.Str(value) is var u && u.Any(char.IsUpper) && !u.Any(char.IsLower),
            _ => throw new EvalError($"the test '{name}'", unsupported: true),
        };
    }

    // Python's "is": identity, which for the immutable singletons and small values Jinja templates test is equality.
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (bool, _) or (_, bool) => false,
        (long x, long y) => x == y,
        (string x, string y) => ReferenceEquals(x, y) || string.Equals(x, y, StringComparison.Ordinal),
        _ => ReferenceEquals(a, b),
    };
}
