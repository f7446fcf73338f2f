namespace Distill.Text.Templates;

/// <summary>
/// Jinja2's attribute and item lookup in the immutable sandbox: <c>a.b</c> tries the attribute then the key,
/// <c>a['b']</c> the key then the attribute; a miss is <see cref="Undefined"/>, and only a lookup on
/// something already undefined fails.
/// </summary>
internal static class Access
{
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u:
                throw new EvalError(u.Hint);
            case OrderedDictionary<string, object?> d:
                if (Methods.IsMethod(d, name)) return new JinjaCallable(name, d, IsMethod: true);
                return d.TryGetValue(name, out var v) ? v : Undefined.Attribute(d, name);
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var a) ? a : Undefined.Attribute(ns, name);
            case LoopContext loop:
                return loop.Get(name);
            case string or List<object?> or object?[]:
                if (Methods.IsMethod(obj, name)) return new JinjaCallable(name, obj, IsMethod: true);
                if (Methods.IsUnsafe(obj, name)) return new Undefined($"access to attribute '{name}' of '{PyValue.TypeName(obj)}' object is unsafe (the sandbox forbids changing values)");
                return Undefined.Attribute(obj, name);
            case long or bool or double when name is "real" or "imag":
                if (name == "imag") return obj is double ? 0.0 : (object)0L;
                return obj is double ? obj : PyValue.ToLong(obj);
            default:
                return Undefined.Attribute(obj, name);
        }
    }

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u:
                throw new EvalError(u.Hint);
            case OrderedDictionary<string, object?> d:
                if (key is string k && d.TryGetValue(k, out var v)) return v;
                return key is string name ? GetAttr(d, name) : Undefined.Attribute(d, PyValue.Repr(key));
            case List<object?> or object?[] or string when key is long or bool:
                return Index(obj, PyValue.ToLong(key));
            case RangeValue r when key is long or bool:
                return Index(r.Items, PyValue.ToLong(key));
            default:
                return key is string attr ? GetAttr(obj, attr) : new Undefined($"'{PyValue.TypeName(obj)} object' has no element {PyValue.Repr(key)}");
        }
    }

    private static object? Index(object? obj, long i)
    {
        if (obj is string s)
        {
            var cps = PyStr.CodePoints(s);
            var at = i < 0 ? i + cps.Count : i;
            return at >= 0 && at < cps.Count ? cps[(int)at] : new Undefined($"string index {i} out of range");
        }
        var items = (IReadOnlyList<object?>)obj!;
        var j = i < 0 ? i + items.Count : i;
        return j >= 0 && j < items.Count ? items[(int)j] : new Undefined($"'{PyValue.TypeName(obj)} object' has no element {i}");
    }

    /// <summary>Python slicing <c>x[start:stop:step]</c> of a list, tuple or string.</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        var stride = step is null ? 1 : PyValue.ToLong(step);
        if (stride == 0) throw new EvalError("slice step cannot be zero");
        switch (obj)
        {
            case Undefined u:
                throw new EvalError(u.Hint);
            case string s:
                var cps = PyStr.CodePoints(s);
                return string.Concat(Pick(cps, start, stop, stride));
            case List<object?> l:
                return Pick(l, start, stop, stride).ToList();
            case object?[] t:
                return Pick(t, start, stop, stride).ToArray();
            default:
                // Jinja2's answer here depends on CPython details (undefined for some types, TypeError for others).
                throw new EvalError($"slicing a {PyValue.TypeName(obj)} value", unsupported: true);
        }
    }

    private static IEnumerable<T> Pick<T>(IReadOnlyList<T> items, object? start, object? stop, long step)
    {
        long n = items.Count;
        long Clamp(object? bound, long fallback, long low, long high)
        {
            if (bound is null) return fallback;
            var b = PyValue.ToLong(bound);
            if (b < 0) b += n;
            return Math.Clamp(b, low, high);
        }
        if (step > 0)
        {
            var (from, to) = (Clamp(start, 0, 0, n), Clamp(stop, n, 0, n));
            for (var i = from; i < to; i += step) yield return items[(int)i];
        }
        else
        {
            var (from, to) = (Clamp(start, n - 1, -1, n - 1), Clamp(stop, -1, -1, n - 1));
            for (var i = from; i > to; i += step) yield return items[(int)i];
        }
    }
}
