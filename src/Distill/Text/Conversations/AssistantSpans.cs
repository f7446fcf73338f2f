namespace Distill.Text.Conversations;

/// <summary>
/// Finds the character ranges of the supervised assistant turns inside a rendered conversation.
/// </summary>
/// <remarks>
/// Chat templates are arbitrary programs, so the spans are found by rendering, not by knowing the
/// template. For assistant turn i:
/// <list type="number">
/// <item>P = render(messages[..i], generation prompt) ends with the header that opens the turn;
/// S = render(messages[..i+1]) ends with the turn itself. If S starts with P and the full render
/// starts with S, the turn is full[len(P)..len(S)): everything the template writes for the turn after
/// its header. Whitespace after the last end-of-turn marker in that range (chatml's "\n" after
/// "&lt;|im_end|&gt;") is layout before the next turn, so it is cut off.</item>
/// <item>Otherwise the template renders earlier turns differently once later ones follow (Qwen3 drops
/// the reasoning of earlier turns; Mistral moves the system prompt into the last user turn). Then the
/// turn's content is searched for in the full render, after the contents of the messages before it,
/// and extended over an end-of-turn marker that follows it (after optional whitespace). If it cannot
/// be found the conversation is refused: a wrong mask would silently train the model on the prompt.</item>
/// </list>
/// </remarks>
internal static class AssistantSpans
{
    public static List<(int Start, int End)> Find(
        IReadOnlyList<ChatMessage> messages, string full, ChatRenderer render, Supervise supervise, IReadOnlyList<string> markers)
    {
        var turns = Enumerable.Range(0, messages.Count).Where(i => messages[i].Role == "assistant").ToList();
        if (supervise == Supervise.Last)
            turns = turns.Count == 0 ? turns : [turns[^1]];
        var spans = new List<(int Start, int End)>(turns.Count);
        var cursor = 0;
        var nextMessage = 0;
        foreach (var turn in turns)
        {
            var span = FromPrefixes(messages, turn, full, render, markers);
            if (span is null || span.Value.Start < cursor)
                span = Locate(messages, nextMessage, turn, full, cursor, markers)
                    ?? throw new InvalidDataException(
                        $"cannot locate assistant turn {turn} (\"{Shorten(messages[turn].Content)}\") in the rendered conversation; the chat template changes it beyond recognition");
            spans.Add(span.Value);
            cursor = span.Value.End;
            nextMessage = turn + 1;
        }
        return spans;
    }

    private static (int Start, int End)? FromPrefixes(
        IReadOnlyList<ChatMessage> messages, int turn, string full, ChatRenderer render, IReadOnlyList<string> markers)
    {
        var prompt = render(Slice(messages, turn), true);
        var withTurn = render(Slice(messages, turn + 1), false);
        if (!withTurn.StartsWith(prompt, StringComparison.Ordinal) || !full.StartsWith(withTurn, StringComparison.Ordinal))
            return null;
        return (prompt.Length, TrimAfterLastMarker(full, prompt.Length, withTurn.Length, markers));
    }

    private static int TrimAfterLastMarker(string text, int start, int end, IReadOnlyList<string> markers)
    {
        var trimmed = end;
        while (trimmed > start && char.IsWhiteSpace(text[trimmed - 1]))
            trimmed--;
        if (trimmed == end)
            return end;
        foreach (var marker in markers)
        {
            if (trimmed - start >= marker.Length && string.CompareOrdinal(text, trimmed - marker.Length, marker, 0, marker.Length) == 0)
                return trimmed;
        }
        return end;
    }

    private static (int Start, int End)? Locate(
        IReadOnlyList<ChatMessage> messages, int first, int turn, string full, int cursor, IReadOnlyList<string> markers)
    {
        // Walking over the earlier messages first keeps a user turn that quotes the answer from
        // being taken for the answer; messages the template rewrote are simply not found and skipped.
        // A template that moves a message (Mistral's system prompt) can make the walk overshoot, so
        // the search falls back to starting right after the previous turn.
        var walked = cursor;
        for (var j = first; j < turn; j++)
        {
            if (Find(full, messages[j], walked) is { } earlier)
                walked = earlier.End;
        }
        if ((Find(full, messages[turn], walked) ?? Find(full, messages[turn], cursor)) is not { } content)
            return null;
        var after = content.End;
        while (after < full.Length && char.IsWhiteSpace(full[after]))
            after++;
        var marker = markers.Where(m => full.AsSpan(after).StartsWith(m, StringComparison.Ordinal)).MaxBy(m => m.Length);
        return (content.Start, marker is null ? content.End : after + marker.Length);
    }

    private static (int Start, int End)? Find(string full, ChatMessage message, int from)
    {
        foreach (var candidate in Candidates(message))
        {
            var at = full.IndexOf(candidate, from, StringComparison.Ordinal);
            if (at >= 0)
                return (at, at + candidate.Length);
        }
        return null;
    }

    // Templates commonly strip the content, and reasoning templates keep only the text after the
    // last "</think>" of earlier turns.
    private static IEnumerable<string> Candidates(ChatMessage message)
    {
        var content = message.Content;
        var thinkEnd = content.LastIndexOf("</think>", StringComparison.Ordinal);
        var answer = thinkEnd < 0 ? null : content[(thinkEnd + "</think>".Length)..];
        string?[] candidates = [content, content.Trim(), answer?.TrimStart('\n'), answer?.Trim()];
        return candidates.OfType<string>().Where(c => c.Length > 0).Distinct();
    }

    private static List<ChatMessage> Slice(IReadOnlyList<ChatMessage> messages, int count) => messages.Take(count).ToList();

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
