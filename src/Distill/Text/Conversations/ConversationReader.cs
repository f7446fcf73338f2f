namespace Distill.Text.Conversations;

/// <summary>
/// Streams conversations from a JSONL file, one line at a time, so a multi-gigabyte file is never
/// held in memory. Blank lines are ignored; every other line must hold one conversation in one of
/// the <see cref="ConversationFormat"/> layouts. A bad line is an <see cref="InvalidDataException"/>
/// "file:line: reason", or, with <see cref="ConversationReaderOptions.SkipBad"/>, an entry in
/// <see cref="Skipped"/>.
/// </summary>
public sealed class ConversationReader
{
    private readonly Func<Stream> _open;
    private readonly List<BadLine> _skipped = [];

    private ConversationReader(Func<Stream> open, string sourceName, ConversationReaderOptions options)
    {
        options.Validate();
        _open = open;
        SourceName = sourceName;
        Options = options;
    }

    /// <summary>The file name used in error messages.</summary>
    public string SourceName { get; }

    /// <summary>The options this reader was made with.</summary>
    public ConversationReaderOptions Options { get; }

    /// <summary>Lines skipped so far (only with <see cref="ConversationReaderOptions.SkipBad"/>), in file order.</summary>
    public IReadOnlyList<BadLine> Skipped => _skipped;

    /// <summary>A reader over a JSONL file; the file is opened when enumeration starts.</summary>
    public static ConversationReader Open(string path, ConversationReaderOptions? options = null) =>
        new(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1), path, options ?? ConversationReaderOptions.Default);

    /// <summary>A reader over text from elsewhere (a stream, a string); <paramref name="open"/> is called once per enumeration.</summary>
    public static ConversationReader FromText(Func<TextReader> open, string sourceName, ConversationReaderOptions? options = null) =>
        new(() => new TextReaderStream(open()), sourceName, options ?? ConversationReaderOptions.Default);

    /// <summary>
    /// The conversations, lazily: each line is read only when the next conversation is asked for.
    /// Each enumeration restarts from the top of the file and clears <see cref="Skipped"/>.
    /// </summary>
    public IEnumerable<Conversation> Read()
    {
        _skipped.Clear();
        using var bytes = _open();
        var lines = new LineReader(bytes, Options.MaxLineBytes);
        var number = 0;
        while (lines.TryReadLine(out var line, out var problem))
        {
            number++;
            if (line is not null && string.IsNullOrWhiteSpace(line))
                continue;
            var conversation = TryParse(line, problem, number);
            if (conversation is not null)
                yield return conversation;
        }
    }

    private Conversation? TryParse(string? line, string? problem, int number)
    {
        try
        {
            if (line is null)
                throw new InvalidDataException(problem);
            return new Conversation(ConversationParser.Parse(line, Options.Format), SourceName, number);
        }
        catch (InvalidDataException e) when (Options.SkipBad)
        {
            _skipped.Add(new BadLine(SourceName, number, e.Message));
            return null;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{SourceName}:{number}: {e.Message}", e);
        }
    }
}
