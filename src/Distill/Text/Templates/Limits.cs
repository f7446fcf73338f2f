namespace Distill.Text.Templates;

/// <summary>
/// Bounds that no real chat template comes near but that keep a hostile one from exhausting memory, stack or
/// time; exceeding one is a <see cref="TemplateRenderException"/>, as Python's RecursionError or MemoryError
/// would be.
/// </summary>
internal static class Limits
{
    /// <summary>Longest string a template may build, and longest output (64 Mi characters).</summary>
    public const int MaxChars = 1 << 26;

    /// <summary>Most items in a list a template builds.</summary>
    public const int MaxItems = 1 << 24;

    /// <summary>Deepest nesting of lists and dicts that printing, comparing or JSON encoding walks.</summary>
    public const int MaxNesting = 200;

    /// <summary>Most loop iterations in one render (nested loops multiply).</summary>
    public const long MaxIterations = 10_000_000;

    public static string CheckString(string s) =>
        s.Length <= MaxChars ? s : throw new EvalError($"a string longer than {MaxChars} characters");

    public static List<object?> CheckList(List<object?> l) =>
        l.Count <= MaxItems ? l : throw new EvalError($"a list longer than {MaxItems} items");

    /// <summary>string.Join that stops as soon as the result would pass <see cref="MaxChars"/>.</summary>
    public static string Join(IEnumerable<string> parts, string separator)
    {
        var sb = new System.Text.StringBuilder();
        var first = true;
        foreach (var part in parts)
        {
            if (!first) sb.Append(separator);
            first = false;
            if ((long)sb.Length + part.Length > MaxChars) throw new EvalError($"a string longer than {MaxChars} characters");
            sb.Append(part);
        }
        return sb.ToString();
    }

    public static void CheckNesting(int depth)
    {
        if (depth > MaxNesting) throw new EvalError($"values nested deeper than {MaxNesting} levels");
    }
}
