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
/// turn's content is searched for in the full render, between the neighbouring turns already placed
/// and after the user turns before it, and extended over an end-of-turn marker that follows it (after
/// optional whitespace). If it cannot be found the conversation is refused: a wrong mask would
/// silently train the model on the prompt.</item>
/// </list>
/// </remarks>
internal static class AssistantSpans
{
    public static List<(int Start, int End)> Find(
        IReadOnlyList<ChatMessage> messages, string full, ChatRenderer render, Supervise supervise, IReadOnlyList<string> markers)
    {
        var turns = Enumerable.Range(0, messages.Count).Where(i => messages[i].Role == "assistant").ToList();
        if (supervise == Supervise.Last && turns.Count > 0)
            turns = [turns[^1]];
        var placed = turns.Select(turn => FromPrefixes(messages, turn, full, render, markers)).ToArray();
        var spans = new List<(int Start, int End)>(turns.Count);
        for (var k = 0; k < turns.Count; k++)
        {
            var lower = k == 0 ? 0 : spans[k - 1].End;
            var upper = placed.Skip(k + 1).FirstOrDefault(p => p is not null)?.Start ?? full.Length;
            var span = placed[k] is { } p && p.Start >= lower && p.End <= upper
                ? p
                : Locate(messages, k == 0 ? 0 : turns[k - 1] + 1, turns[k], full, lower, upper, markers)
                    ?? throw new InvalidDataException(
                        $"cannot locate assistant turn {turns[k]} (\"{Shorten(messages[turns[k]].Content)}\") in the rendered conversation; the chat template changes it beyond recognition");
            spans.Add(span);
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
        IReadOnlyList<ChatMessage> messages, int first, int turn, string full, int lower, int upper, IReadOnlyList<string> markers)
    {
        // Walking over the user and tool turns before it keeps a question that quotes the answer from
        // being taken for the answer. System prompts are not walked over: templates move them (Mistral
        // writes the system prompt into the last user turn). Turns the template rewrote are not found
        // and simply skipped; if the walk still overshoots, the search starts from the lower bound.
        var walked = lower;
        for (var j = first; j < turn; j++)
        {
            if (messages[j].Role is not ("system" or "assistant") && Find(full, messages[j], walked, upper) is { } earlier)
                walked = earlier.End;
        }
        if ((Find(full, messages[turn], walked, upper) ?? Find(full, messages[turn], lower, upper)) is not { } content)
            return null;
        var after = content.End;
        while (after < upper && char.IsWhiteSpace(full[after]))
            after++;
        var marker = markers.Where(m => after + m.Length <= upper && string.CompareOrdinal(full, after, m, 0, m.Length) == 0).MaxBy(m => m.Length);
        return (content.Start, marker is null ? content.End : after + marker.Length);
    }

    private static (int Start, int End)? Find(string full, ChatMessage message, int from, int to)
    {
        foreach (var candidate in Candidates(message))
        {
            var at = to - from < candidate.Length ? -1 : full.IndexOf(candidate, from, to - from, StringComparison.Ordinal);
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
