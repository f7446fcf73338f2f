using System.Globalization;

namespace Distill.Text.Templates;

/// <summary>Filters over sequences: map, select/reject(attr), sort, unique, sum, min, max.</summary>
internal static class SequenceFilters
{
    public static object? Apply(string name, object? value, CallArgs args)
    {
        switch (name)
        {
            case "select" or "reject":
                return new GeneratorValue(() => Select(IterateIfTrue(value), null, args.Positional, keep: name == "select"));
            case "selectattr" or "rejectattr":
                if (args.Positional.Count == 0) throw new EvalError($"{name}() needs an attribute name");
                return new GeneratorValue(() => Select(IterateIfTrue(value), args.Positional[0], args.Positional.Skip(1).ToList(), keep: name == "selectattr"));
            case "map":
                return new GeneratorValue(() => Map(IterateIfTrue(value), args));
            case "unique":
                args.Expect("case_sensitive", "attribute");
                return new GeneratorValue(() => Unique(PyValue.Iterate(value), args));
        }
        var items = PyValue.Iterate(value);
        switch (name)
        {
            case "sort":
                args.Expect("reverse", "case_sensitive", "attribute");
                var sorted = SortKeyed(items, args.GetBool(1, "case_sensitive", false), args.Get(2, "attribute"));
                if (args.GetBool(0, "reverse", false)) sorted.Reverse();
                return sorted;
            case "sum":
                return Sum(items, args.Expect("attribute", "start"));
            default:
                args.Expect("case_sensitive", "attribute");
                var ordered = SortKeyed(items, args.GetBool(0, "case_sensitive", false), args.Get(1, "attribute"));
                if (ordered.Count == 0) return new Undefined("No aggregated item, sequence was empty.");
                return name == "min" ? ordered[0] : ordered[^1];
        }
    }

    // Jinja2's map/select/reject yield nothing for a falsy input (even None or false) before trying to iterate it.
    private static IReadOnlyList<object?> IterateIfTrue(object? value) => PyValue.IsTrue(value) ? PyValue.Iterate(value) : [];

    /// <summary>Jinja2's attribute getter: "a.b.0" looks up a, then b, then item 0, each as a subscript.</summary>
    public static object? LookupPath(object? item, object? attribute)
    {
        if (attribute is long or bool) return Access.GetItem(item, attribute);
        var path = attribute as string ?? throw new EvalError("attribute must be a string or an integer");
        foreach (var part in path.Split('.'))
        {
            item = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? Access.GetItem(item, index) : Access.GetItem(item, part);
        }
        return item;
    }

    private static List<object?> Select(IReadOnlyList<object?> items, object? attribute, IReadOnlyList<object?> testArgs, bool keep)
    {
        var result = new List<object?>();
        foreach (var item in items)
        {
            var subject = attribute is null ? item : LookupPath(item, attribute);
            bool passed;
            if (testArgs.Count == 0) passed = PyValue.IsTrue(subject);
            else
            {
                var test = testArgs[0] as string ?? throw new EvalError("the test name must be a string");
                if (!TestFunctions.IsKnown(test)) throw new EvalError($"the test '{test}'", unsupported: true);
                passed = TestFunctions.Run(test, subject, testArgs.Skip(1).ToList());
            }
            if (passed == keep) result.Add(item);
        }
        return result;
    }

    private static List<object?> Map(IReadOnlyList<object?> items, CallArgs args)
    {
        if (args.Positional.Count == 0 && args.Named.Any(n => n.Name == "attribute"))
        {
            var attribute = args.Get(-1, "attribute");
            var hasDefault = args.Named.Any(n => n.Name == "default");
            var fallback = args.Get(-1, "default");
            return items.Select(x =>
            {
                var v = LookupPath(x, attribute);
                return hasDefault && v is Undefined ? fallback : v;
            }).ToList();
        }
        if (args.Positional.Count == 0 || args.Positional[0] is not string filter) throw new EvalError("map() needs a filter name or attribute=");
        if (!Filters.IsKnown(filter)) throw new EvalError($"the filter '{filter}'", unsupported: true);
        var rest = new CallArgs(filter, args.Positional.Skip(1).ToList(), args.Named);
        return items.Select(x => Filters.Apply(filter, x, rest)).ToList();
    }

    private static object? SortKey(object? item, bool caseSensitive, object? attribute)
    {
        var key = attribute is null ? item : LookupPath(item, attribute);
        return !caseSensitive && key is string s ? PyCase.Lower(s) : key;
    }

    // A stable sort like Python's, comparing by the (optionally lower-cased) key.
    private static List<object?> SortKeyed(IReadOnlyList<object?> items, bool caseSensitive, object? attribute)
    {
        var keyed = items.Select((x, i) => (Item: x, Key: SortKey(x, caseSensitive, attribute), Index: i)).ToList();
        keyed.Sort((a, b) =>
        {
            var c = PyValue.Compare(a.Key, b.Key, "<");
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        return keyed.Select(k => k.Item).ToList();
    }

    private static IReadOnlyList<object?> Unique(IReadOnlyList<object?> items, CallArgs args)
    {
        var caseSensitive = args.GetBool(0, "case_sensitive", false);
        var attribute = args.Get(1, "attribute");
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in items)
        {
            var key = SortKey(item, caseSensitive, attribute);
            if (seen.Any(k => PyValue.PyEquals(k, key))) continue;
            seen.Add(key);
            result.Add(item);
        }
        return result;
    }

    private static object? Sum(IReadOnlyList<object?> items, CallArgs args)
    {
        var attribute = args.Get(0, "attribute");
        var total = args.Get(1, "start", 0L);
        foreach (var item in items)
        {
            total = Operators.Add(total, attribute is null ? item : LookupPath(item, attribute));
        }
        return total;
    }
}
