using Distill.Text.Tokenization;

namespace Distill.Text.Conversations;

/// <summary>
/// Turns conversations into <see cref="TokenizedExample"/>s: renders the whole conversation once,
/// finds the supervised assistant spans in the text (see <see cref="AssistantSpans"/>), tokenizes the
/// text once with character offsets, and marks every token whose characters lie inside a span.
/// </summary>
/// <remarks>
/// A token that straddles a span boundary (part header, part answer) is not marked: it is not wholly
/// the assistant's; the usual templates end the header at a token boundary. The exception is a word
/// token that carries the space before it (" Pong", "▁Pong") when the span starts at the word: the
/// model has to produce that token, so it is supervised.
/// </remarks>
public sealed class ExampleBuilder
{
    private readonly ChatRenderer _render;
    private readonly TextTokenizer _tokenize;

    /// <summary>A builder over any renderer and tokenizer.</summary>
    public ExampleBuilder(ChatRenderer render, TextTokenizer tokenize, ExampleOptions? options = null)
    {
        Options = options ?? ExampleOptions.Default;
        Options.Validate();
        _render = render;
        _tokenize = tokenize;
    }

    /// <summary>The options this builder was made with.</summary>
    public ExampleOptions Options { get; }

    /// <summary>
    /// Tokenizes one conversation. Throws <see cref="InvalidDataException"/> "file:line: reason" when the
    /// assistant turns cannot be located or no supervised token is left (e.g. after truncation).
    /// </summary>
    public TokenizedExample Build(Conversation conversation) => Inspect(conversation).Example;

    /// <summary>Like <see cref="Build"/>, but also returns the rendered text and token offsets, to show the example.</summary>
    public InspectedExample Inspect(Conversation conversation)
    {
        var (example, reason) = TryBuild(conversation);
        return example ?? throw new InvalidDataException($"{conversation.Location}: {reason}");
    }

    /// <summary>
    /// Tokenizes conversations lazily. With <paramref name="skipped"/> given, unusable conversations are
    /// recorded there and left out; without it they throw as in <see cref="Build"/>.
    /// </summary>
    public IEnumerable<TokenizedExample> BuildAll(IEnumerable<Conversation> conversations, ICollection<BadLine>? skipped = null) =>
        InspectAll(conversations, skipped).Select(inspected => inspected.Example);

    /// <summary>Like <see cref="BuildAll"/>, with the rendered text and offsets of each example.</summary>
    public IEnumerable<InspectedExample> InspectAll(IEnumerable<Conversation> conversations, ICollection<BadLine>? skipped = null)
    {
        foreach (var conversation in conversations)
        {
            var (example, reason) = TryBuild(conversation);
            if (example is not null)
                yield return example;
            else if (skipped is not null)
                skipped.Add(new BadLine(conversation.SourceFile, conversation.Line, reason!));
            else
                throw new InvalidDataException($"{conversation.Location}: {reason}");
        }
    }

    private (InspectedExample? Example, string? Reason) TryBuild(Conversation conversation)
    {
        if (conversation.Messages.Count > Options.MaxMessages)
            return (null, $"too many messages ({conversation.Messages.Count}, at most {Options.MaxMessages})");
        string full;
        List<(int Start, int End)> spans;
        Encoding tokens;
        try
        {
            full = _render(conversation.Messages, false);
            spans = AssistantSpans.Find(conversation.Messages, full, _render, Options.Supervise, Options.Markers);
            tokens = _tokenize(full);
        }
        catch (InvalidDataException e)
        {
            return (null, e.Message);
        }
        if (tokens.Ids.Length != tokens.Offsets.Length)
            throw new InvalidOperationException($"tokenizer returned {tokens.Ids.Length} ids but {tokens.Offsets.Length} offsets");
        var mask = Mask(full, tokens.Offsets, spans);
        if (!mask.Contains((byte)1))
            return (null, "no supervised token: the assistant turns are empty");
        var length = Math.Min(tokens.Ids.Length, Options.MaxSeqLen ?? int.MaxValue);
        var kept = mask.AsSpan(0, length);
        if (!kept.Contains((byte)1))
            return (null, $"no supervised token left after truncation to {length} tokens (the first is token {Array.IndexOf(mask, (byte)1)} of {mask.Length})");
        var truncated = length < tokens.Ids.Length;
        var example = new TokenizedExample(tokens.Ids[..length], kept.ToArray(), conversation.SourceFile, conversation.Line, truncated);
        return (new InspectedExample(example, full, tokens.Offsets[..length]), null);
    }

    /// <summary>
    /// 1 for each token whose non-empty character range lies inside one of the sorted, disjoint spans,
    /// or starts before a span with whitespace only ("▁Pong", " Pong": word tokens carry their space).
    /// </summary>
    internal static byte[] Mask(string text, (int Start, int End)[] offsets, List<(int Start, int End)> spans)
    {
        var mask = new byte[offsets.Length];
        var starts = spans.Select(s => s.Start).ToArray();
        for (var t = 0; t < offsets.Length; t++)
        {
            var (start, end) = offsets[t];
            if (end <= start)
                continue;
            // The span with the largest start before the token's last character is the only one that can hold it.
            var s = Array.BinarySearch(starts, end - 1);
            s = s >= 0 ? s : ~s - 1;
            if (s >= 0 && end <= spans[s].End && (start >= spans[s].Start || string.IsNullOrWhiteSpace(text[start..spans[s].Start])))
                mask[t] = 1;
        }
        // Token 0 has no context to be predicted from.
        if (mask.Length > 0)
            mask[0] = 0;
        return mask;
    }
}

/// <summary>
/// Renders messages to the model's prompt text, as a chat template does; with
/// <paramref name="addGenerationPrompt"/> the header that opens an assistant turn is appended.
/// </summary>
public delegate string ChatRenderer(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

/// <summary>Encodes a whole rendered conversation into token ids with per-token character offsets.</summary>
public delegate Encoding TextTokenizer(string text);
