namespace Distill.Text.Templates;

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new JinjaCallable("cycle", this, IsMethod: true),
        "changed" => throw new EvalError("loop.changed", unsupported: true),
        _ => Undefined.Attribute(this, name),
    };

    public object? Cycle(IReadOnlyList<object?> args)
    {
        if (args.Count == 0) throw new EvalError("loop.cycle needs at least one value");
        return args[Index0 % args.Count];
    }
}
