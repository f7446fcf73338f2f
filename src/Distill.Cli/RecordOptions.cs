using System.CommandLine;

namespace Distill.Cli;

/// <summary>
/// A command's options bound to the library's option record <typeparamref name="T"/>: an option the user gives sets its
/// property, one left out keeps the record's default (which <c>--help</c> shows). So a default is declared once, in the
/// record, and every command reads its options into its record the same way.
/// </summary>
internal sealed class RecordOptions<T>(T defaults) where T : class
{
    private readonly List<Func<ParseResult, T, T>> _setters = [];
    private readonly List<Option> _options = [];

    /// <summary>Adds <paramref name="option"/>: <paramref name="set"/> applies a value the user gave; <paramref name="shown"/> is the default --help shows.</summary>
    public Option<TValue> Add<TValue>(Option<TValue> option, Func<T, TValue, T> set, Func<T, TValue>? shown = null)
    {
        if (shown is not null && shown(defaults) is { } value) option.DefaultValueFactory = _ => value;
        _setters.Add((parse, record) => parse.GetResult(option) is { Implicit: false } ? set(record, parse.GetValue(option)!) : record);
        _options.Add(option);
        return option;
    }

    /// <summary>Adds every bound option to <paramref name="command"/>, in the order they were bound.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in _options) command.Options.Add(option);
    }

    /// <summary>The record: the defaults with every option the user gave applied.</summary>
    public T Bind(ParseResult parse) => _setters.Aggregate(defaults, (record, set) => set(parse, record));
}
