using System.Globalization;
using System.Text;

namespace Distill.Text.Templates;

/// <summary>
/// Python's json.dumps as transformers' <c>tojson</c> filter calls it: ensure_ascii=False, no key sorting,
/// separators ", " and ": " (or "," and ": " when indenting), unless the template passes other values.
/// </summary>
internal sealed class PyJson
{
    private readonly bool _ensureAscii;
    private readonly string? _indent;
    private readonly string _itemSeparator;
    private readonly string _keySeparator;
    private readonly bool _sortKeys;
    private readonly StringBuilder _sb = new();

    private PyJson(bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys)
    {
        _ensureAscii = ensureAscii;
        _indent = indent;
        _itemSeparator = itemSeparator;
        _keySeparator = keySeparator;
        _sortKeys = sortKeys;
    }

    public static string Dumps(object? value, bool ensureAscii = false, object? indent = null, object? separators = null, bool sortKeys = false)
    {
        var indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)Math.Clamp(n, 0, 64)),
            string s => s,
            _ => throw new EvalError($"tojson: indent must be an integer or a string, not {PyValue.TypeName(indent)}"),
        };
        var (item, key) = separators switch
        {
            null => (indentText is null ? ", " : ",", ": "),
            IReadOnlyList<object?> { Count: 2 } pair when pair[0] is string a && pair[1] is string b => (a, b),
            _ => throw new EvalError("tojson: separators must be a pair of strings"),
        };
        var json = new PyJson(ensureAscii, indentText, item, key, sortKeys);
        json.Write(value, 0);
        return json._sb.ToString();
    }

    private void Write(object? value, int level)
    {
        if (level > 200) throw new EvalError("tojson: nesting too deep");
        switch (value)
        {
            case null: _sb.Append("null"); break;
            case bool b: _sb.Append(b ? "true" : "false"); break;
            case long l: _sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: _sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyValue.FloatRepr(d)); break;
            case string s: WriteString(s); break;
            case List<object?> l: WriteArray(l, level); break;
            case object?[] t: WriteArray(t, level); break;
            case OrderedDictionary<string, object?> d: WriteObject(d, level); break;
            case Undefined u: throw new EvalError($"Object of type Undefined is not JSON serializable ({u.Hint})");
            default: throw new EvalError($"Object of type {PyValue.TypeName(value)} is not JSON serializable");
        }
    }

    private void NewLine(int level)
    {
        if (_indent is null) return;
        _sb.Append('\n');
        for (var i = 0; i < level; i++) _sb.Append(_indent);
    }

    private void WriteArray(IReadOnlyList<object?> items, int level)
    {
        if (items.Count == 0)
        {
            _sb.Append("[]");
            return;
        }
        _sb.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) _sb.Append(_itemSeparator);
            NewLine(level + 1);
            Write(items[i], level + 1);
        }
        NewLine(level);
        _sb.Append(']');
    }

    private void WriteObject(OrderedDictionary<string, object?> d, int level)
    {
        if (d.Count == 0)
        {
            _sb.Append("{}");
            return;
        }
        IEnumerable<KeyValuePair<string, object?>> pairs = _sortKeys ? d.OrderBy(kv => kv.Key, StringComparer.Ordinal) : d;
        _sb.Append('{');
        var first = true;
        foreach (var (key, val) in pairs)
        {
            if (!first) _sb.Append(_itemSeparator);
            first = false;
            NewLine(level + 1);
            WriteString(key);
            _sb.Append(_keySeparator);
            Write(val, level + 1);
        }
        NewLine(level);
        _sb.Append('}');
    }

    private void WriteString(string s)
    {
        _sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                case '\b': _sb.Append("\\b"); break;
                case '\f': _sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (_ensureAscii && c > 0x7E)) _sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else _sb.Append(c);
                    break;
            }
        }
        _sb.Append('"');
    }
}
