using System.Text;

namespace Distill.Text.Templates;

/// <summary>The Python methods of str, dict and list that chat templates call, e.g. <c>content.split('&lt;/think&gt;')</c>.</summary>
internal static class Methods
{
    private static readonly HashSet<string> StringMethods =
        ["startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize",
         "replace", "find", "rfind", "count", "join", "format", "isdigit", "isalpha", "isalnum", "isspace", "islower",
         "isupper", "splitlines", "removeprefix", "removesuffix"];

    // Real str methods this interpreter does not run: naming them fails loudly instead of yielding undefined.
    private static readonly HashSet<string> UnsupportedStringMethods =
        ["casefold", "center", "encode", "expandtabs", "format_map", "index", "isascii", "isdecimal", "isidentifier",
         "isnumeric", "isprintable", "istitle", "ljust", "maketrans", "partition", "rindex", "rjust", "rpartition",
         "swapcase", "translate", "zfill"];

    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get"];

    private static readonly HashSet<string> SequenceMethods = ["index", "count"];

    private static readonly HashSet<string> Mutators =
        ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem"];

    public static bool IsMethod(object? self, string name) => self switch
    {
        string => StringMethods.Contains(name) || (UnsupportedStringMethods.Contains(name)
            ? throw new EvalError($"the string method '{name}'", unsupported: true) : false),
        OrderedDictionary<string, object?> => DictMethods.Contains(name),
        List<object?> or object?[] => SequenceMethods.Contains(name),
        _ => false,
    };

    public static bool IsUnsafe(object? self, string name) => self is List<object?> && Mutators.Contains(name);

    public static object? Call(JinjaCallable method, CallArgs args) => method.Self switch
    {
        string s => CallString(s, method.Name, args),
        OrderedDictionary<string, object?> d => CallDict(d, method.Name, args),
        IReadOnlyList<object?> l => CallSequence(l, method.Name, args),
        LoopContext loop => loop.Cycle(args.Positional),
        _ => throw new EvalError($"'{method.Name}' is not callable"),
    };

    private static object? CallDict(OrderedDictionary<string, object?> d, string name, CallArgs args)
    {
        switch (name)
        {
            case "items":
                args.Expect();
                return new DictView("dict_items", d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList());
            case "keys":
                args.Expect();
                return new DictView("dict_keys", d.Keys.Cast<object?>().ToList());
            case "values":
                args.Expect();
                return new DictView("dict_values", d.Values.ToList());
            default:
                args.Expect("key", "default");
                return args.Get(0, "key") is string k && d.TryGetValue(k, out var v) ? v : args.Get(1, "default");
        }
    }

    private static object? CallSequence(IReadOnlyList<object?> items, string name, CallArgs args)
    {
        args.Expect("value");
        var value = args.Get(0, "value");
        if (name == "count") return (long)items.Count(x => PyValue.PyEquals(x, value));
        for (var i = 0; i < items.Count; i++)
        {
            if (PyValue.PyEquals(items[i], value)) return (long)i;
        }
        throw new EvalError($"{PyValue.Repr(value)} is not in list");
    }

    private static object? CallString(string s, string name, CallArgs args)
    {
        switch (name)
        {
            case "startswith" or "endswith":
                return Affix(s, name == "startswith", args.Expect("prefix").Get(0, "prefix"));
            case "split" or "rsplit":
                args.Expect("sep", "maxsplit");
                var sep = args.GetString(0, "sep");
                var max = args.GetLong(1, "maxsplit", -1);
                try
                {
                    return name == "split" ? PyStr.Split(s, sep, max) : PyStr.RSplit(s, sep, max);
                }
                catch (ArgumentException)
                {
                    throw new EvalError("empty separator");
                }
            case "strip": return PyStr.Strip(s, args.Expect("chars").GetString(0, "chars"));
            case "lstrip": return PyStr.LStrip(s, args.Expect("chars").GetString(0, "chars"));
            case "rstrip": return PyStr.RStrip(s, args.Expect("chars").GetString(0, "chars"));
            case "lower": args.Expect(); return PyCase.Lower(s);
            case "upper": args.Expect(); return PyCase.Upper(s);
            case "title": args.Expect(); return PyStr.TitleMethod(s);
            case "capitalize": args.Expect(); return PyStr.Capitalize(s);
            case "replace":
                args.Expect("old", "new", "count");
                return PyStr.Replace(s, args.GetString(0, "old") ?? "", args.GetString(1, "new") ?? "", args.GetLong(2, "count", -1));
            case "find" or "rfind" or "count":
                return Search(s, name, args.Expect("sub").GetString(0, "sub") ?? throw new EvalError($"{name}() needs a string"));
            case "join":
                return PyValue.Join(PyValue.Iterate(args.Expect("iterable").Get(0, "iterable")).Select(x =>
                    x is string ? x : throw new EvalError($"sequence item: expected str instance, {PyValue.TypeName(x)} found")), s);
            case "format": return Format(s, args);
            case "removeprefix":
                var prefix = args.Expect("prefix").GetString(0, "prefix") ?? "";
                return s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
            case "removesuffix":
                var suffix = args.Expect("suffix").GetString(0, "suffix") ?? "";
                return suffix.Length > 0 && s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;
            case "splitlines": args.Expect(); return PyStr.SplitLines(s).Cast<object?>().ToList();
            default:
                args.Expect();
                return Classify(s, name);
        }
    }

    private static bool Affix(string s, bool start, object? affix)
    {
        var options = affix switch
        {
            string one => [one],
            object?[] many => many.Select(x => x as string ?? throw new EvalError("startswith/endswith take strings")).ToArray(),
            _ => throw new EvalError($"startswith/endswith first arg must be str or a tuple of str, not {PyValue.TypeName(affix)}"),
        };
        return options.Any(o => start ? s.StartsWith(o, StringComparison.Ordinal) : s.EndsWith(o, StringComparison.Ordinal));
    }

    private static long Search(string s, string name, string sub)
    {
        if (name == "count")
        {
            if (sub.Length == 0) return PyStr.Length(s) + 1;
            long n = 0;
            for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
            return n;
        }
        var at = name == "find" ? s.IndexOf(sub, StringComparison.Ordinal) : s.LastIndexOf(sub, StringComparison.Ordinal);
        return at < 0 ? -1 : PyStr.Length(s[..at]);
    }

    private static bool Classify(string s, string name)
    {
        if (s.Length == 0) return false;
        return name switch
        {
            "isdigit" => s.All(char.IsDigit),
            "isalpha" => s.All(char.IsLetter),
            "isalnum" => s.All(char.IsLetterOrDigit),
            "isspace" => s.All(PyStr.IsSpace),
            "islower" => s.Any(char.IsLower) && !s.Any(char.IsUpper),
            "isupper" => s.Any(char.IsUpper) && !s.Any(char.IsLower),
            _ => throw new EvalError($"the string method '{name}'", unsupported: true),
        };
    }

    /// <summary>str.format with {}, {0} and {name} fields; conversions and format specs are refused.</summary>
    private static string Format(string s, CallArgs args)
    {
        var sb = new StringBuilder();
        var auto = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c == '}') throw new EvalError("Single '}' encountered in format string");
            if (c != '{') { sb.Append(c); continue; }
            var end = s.IndexOf('}', i);
            if (end < 0) throw new EvalError("Single '{' encountered in format string");
            var field = s[(i + 1)..end];
            if (field.IndexOfAny([':', '!', '.', '[']) >= 0) throw new EvalError($"str.format field '{{{field}}}'", unsupported: true);
            object? value;
            if (field.Length == 0) value = args.Positional.Count > auto ? args.Positional[auto++] : throw new EvalError("Replacement index out of range");
            else if (int.TryParse(field, out var index)) value = index < args.Positional.Count ? args.Positional[index] : throw new EvalError("Replacement index out of range");
            else value = args.Named.FirstOrDefault(n => n.Name == field) is { Name: not null } hit ? hit.Value : throw new EvalError($"KeyError: '{field}'");
            sb.Append(PyValue.Str(value));
            i = end;
        }
        return sb.ToString();
    }
}
