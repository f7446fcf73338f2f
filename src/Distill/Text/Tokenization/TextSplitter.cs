namespace Distill.Text.Tokenization;

/// <summary>Cuts a <see cref="NormalizedText"/> at a pattern's matches, keeping delimiters as the behaviour says.</summary>
internal static class TextSplitter
{
    public static void Split(NormalizedText text, ISplitPattern pattern, bool invert, SplitBehavior behavior,
        List<NormalizedText> output)
    {
        var matches = new List<(int Start, int End)>();
        pattern.FindMatches(text.Text, matches);
        if (matches.Count == 0 && !invert)
        {
            if (text.Length > 0)
                output.Add(text);
            return;
        }
        if (behavior == SplitBehavior.Isolated)
        {
            // Every match and every gap becomes a piece, whatever the flags: skip the bookkeeping.
            int previous = 0;
            foreach (var (start, end) in matches)
            {
                if (previous < start)
                    output.Add(text.Slice(previous, start));
                output.Add(text.Slice(start, end));
                previous = end;
            }
            if (previous < text.Length)
                output.Add(text.Slice(previous, text.Length));
            return;
        }
        var segments = Cover(text.Length, matches, invert);
        foreach (var (start, end) in Apply(segments, behavior))
        {
            if (end > start)
                output.Add(text.Slice(start, end));
        }
    }

    /// <summary>Matches and the gaps between them, covering [0, length), each flagged as a match or not.</summary>
    private static List<(int Start, int End, bool IsMatch)> Cover(int length, List<(int Start, int End)> matches, bool invert)
    {
        var segments = new List<(int, int, bool)>(matches.Count * 2 + 1);
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            if (previous < start)
                segments.Add((previous, start, invert));
            segments.Add((start, end, !invert));
            previous = end;
        }
        if (previous < length)
            segments.Add((previous, length, invert));
        return segments;
    }

    private static List<(int Start, int End)> Apply(List<(int Start, int End, bool IsMatch)> segments, SplitBehavior behavior)
    {
        var kept = new List<(int Start, int End)>(segments.Count);
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var s in segments)
                {
                    if (!s.IsMatch)
                        kept.Add((s.Start, s.End));
                }
                break;
            case SplitBehavior.Isolated:
                foreach (var s in segments)
                    kept.Add((s.Start, s.End));
                break;
            case SplitBehavior.Contiguous:
                bool? previousFlag = null;
                foreach (var s in segments)
                {
                    if (previousFlag == s.IsMatch)
                        kept[^1] = (kept[^1].Start, s.End);
                    else
                        kept.Add((s.Start, s.End));
                    previousFlag = s.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                bool previousMatch = false;
                foreach (var s in segments)
                {
                    if (s.IsMatch && !previousMatch && kept.Count > 0)
                        kept[^1] = (kept[^1].Start, s.End);
                    else
                        kept.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                bool nextMatch = false;
                for (int i = segments.Count - 1; i >= 0; i--)
                {
                    var s = segments[i];
                    if (s.IsMatch && !nextMatch && kept.Count > 0)
                        kept[^1] = (s.Start, kept[^1].End);
                    else
                        kept.Add((s.Start, s.End));
                    nextMatch = s.IsMatch;
                }
                kept.Reverse();
                break;
        }
        return kept;
    }
}
