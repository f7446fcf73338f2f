using System.Globalization;
using System.Text;

namespace Distill.Text.Templates;

/// <summary>
/// Python 3 string semantics the templates rely on: whitespace per str.isspace, strip/split rules, and
/// lengths, indices and slices counted in code points (not UTF-16 units), so emoji behave as in Python.
/// </summary>
internal static class PyStr
{
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static string Strip(string s, string? chars) => RStrip(LStrip(s, chars), chars);

    public static string LStrip(string s, string? chars)
    {
        var i = 0;
        while (i < s.Length && Stripped(s[i], chars)) i++;
        return s[i..];
    }

    public static string RStrip(string s, string? chars)
    {
        var i = s.Length;
        while (i > 0 && Stripped(s[i - 1], chars)) i--;
        return s[..i];
    }

    private static bool Stripped(char c, string? chars) => chars is null ? IsSpace(c) : chars.Contains(c, StringComparison.Ordinal);

    /// <summary>str.split(sep, maxsplit): no separator splits on whitespace runs and drops empty ends.</summary>
    public static List<object?> Split(string s, string? sep, long maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null) return SplitWhitespace(s, maxSplit);
        if (sep.Length == 0) throw new ArgumentException("empty separator");
        var start = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            var i = s.IndexOf(sep, start, StringComparison.Ordinal);
            if (i < 0) break;
            parts.Add(s[start..i]);
            start = i + sep.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    private static List<object?> SplitWhitespace(string s, long maxSplit)
    {
        var parts = new List<object?>();
        var i = 0;
        while (true)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            if (i >= s.Length) break;
            if (maxSplit >= 0 && parts.Count >= maxSplit)
            {
                parts.Add(RStrip(s[i..], null));
                break;
            }
            var start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            parts.Add(s[start..i]);
        }
        return parts;
    }

    /// <summary>str.rsplit(sep, maxsplit).</summary>
    public static List<object?> RSplit(string s, string? sep, long maxSplit)
    {
        if (maxSplit < 0) return Split(s, sep, maxSplit);
        var parts = new List<object?>();
        if (sep is null)
        {
            var end = s.Length;
            while (true)
            {
                while (end > 0 && IsSpace(s[end - 1])) end--;
                if (end == 0) break;
                if (parts.Count >= maxSplit)
                {
                    parts.Add(LStrip(s[..end], null));
                    break;
                }
                var start = end;
                while (start > 0 && !IsSpace(s[start - 1])) start--;
                parts.Add(s[start..end]);
                end = start;
            }
        }
        else
        {
            if (sep.Length == 0) throw new ArgumentException("empty separator");
            var end = s.Length;
            while (parts.Count < maxSplit)
            {
                var i = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
                if (i < 0) break;
                parts.Add(s[(i + sep.Length)..end]);
                end = i;
            }
            parts.Add(s[..end]);
        }
        parts.Reverse();
        return parts;
    }

    /// <summary>str.replace(old, new, count); an empty old string inserts new between every character.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) count = long.MaxValue;
        var sb = new StringBuilder();
        if (old.Length == 0)
        {
            var cps = CodePoints(s);
            for (var i = 0; i < cps.Count; i++)
            {
                if (i < count) sb.Append(replacement);
                sb.Append(cps[i]);
                if (sb.Length > Limits.MaxChars) throw new EvalError($"a string longer than {Limits.MaxChars} characters");
            }
            if (cps.Count < count) sb.Append(replacement);
            return sb.ToString();
        }
        var start = 0;
        for (long n = 0; n < count; n++)
        {
            var i = s.IndexOf(old, start, StringComparison.Ordinal);
            if (i < 0) break;
            sb.Append(s, start, i - start).Append(replacement);
            if (sb.Length > Limits.MaxChars) throw new EvalError($"a string longer than {Limits.MaxChars} characters");
            start = i + old.Length;
        }
        return sb.Append(s, start, s.Length - start).ToString();
    }

    public static bool HasSurrogates(string s)
    {
        foreach (var c in s)
        {
            if (char.IsSurrogate(c)) return true;
        }
        return false;
    }

    /// <summary>The string as Python sees it: one element per code point (lone surrogates count as one).</summary>
    public static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                list.Add(s[i].ToString());
            }
        }
        return list;
    }

    public static int Length(string s) => HasSurrogates(s) ? CodePoints(s).Count : s.Length;

    /// <summary>str.capitalize(): the first character in title case, the rest in lower case.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        var cps = CodePoints(s);
        var sb = new StringBuilder(PyCase.TitleOne(cps[0]));
        for (var i = 1; i < cps.Count; i++) sb.Append(PyCase.LowerAt(cps, i));
        return sb.ToString();
    }

    /// <summary>Jinja2's title filter: each run after '-', whitespace, '(', '{', '[' or '&lt;' is upper-cased at its start, lower-cased after.</summary>
    public static string TitleFilter(string s)
    {
        var sb = new StringBuilder();
        var cps = CodePoints(s);
        var i = 0;
        while (i < cps.Count)
        {
            var separators = IsTitleSeparator(cps[i]);
            var start = i;
            while (i < cps.Count && IsTitleSeparator(cps[i]) == separators) i++;
            var word = cps.GetRange(start, i - start);
            sb.Append(PyCase.UpperOne(word[0]));
            for (var k = 1; k < word.Count; k++) sb.Append(PyCase.LowerAt(word, k));
        }
        return sb.ToString();
    }

    private static bool IsTitleSeparator(string cp) => cp.Length == 1 && (cp[0] is '-' or '(' or '{' or '[' or '<' || IsSpace(cp[0]));

    /// <summary>Python's str.title(): a cased character starts a word unless it follows another cased character.</summary>
    public static string TitleMethod(string s)
    {
        var sb = new StringBuilder();
        var cps = CodePoints(s);
        var previousCased = false;
        for (var i = 0; i < cps.Count; i++)
        {
            var cased = PyCase.IsCased(cps[i]);
            sb.Append(previousCased ? PyCase.LowerAt(cps, i) : PyCase.TitleOne(cps[i]));
            previousCased = cased;
        }
        return sb.ToString();
    }

    /// <summary>Python's repr() of a string: single quotes unless only double quotes are safe, escapes for non-printables.</summary>
    public static string Repr(string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var cp in CodePoints(s))
        {
            var code = CodeOf(cp);
            if (cp[0] == quote || cp[0] == '\\') sb.Append('\\').Append(cp);
            else if (cp == "\n") sb.Append("\\n");
            else if (cp == "\r") sb.Append("\\r");
            else if (cp == "\t") sb.Append("\\t");
            else if (IsPrintable(cp)) sb.Append(cp);
            else if (code < 0x100) sb.Append(CultureInfo.InvariantCulture, $"\\x{code:x2}");
            else if (code < 0x10000) sb.Append(CultureInfo.InvariantCulture, $"\\u{code:x4}");
            else sb.Append(CultureInfo.InvariantCulture, $"\\U{code:x8}");
        }
        return sb.Append(quote).ToString();
    }

    private static bool IsPrintable(string cp)
    {
        if (cp == " ") return true;
        var category = CharUnicodeInfo.GetUnicodeCategory(cp, 0);
        return category is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    public static int CodeOf(string cp) => cp.Length == 2 ? char.ConvertToUtf32(cp[0], cp[1]) : cp[0];

    /// <summary>str.splitlines(): breaks at \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029.</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')) continue;
            lines.Add(s[start..i]);
            if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }
}
