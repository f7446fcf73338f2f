namespace Distill.Text.Tokenization;

/// <summary>
/// A piece of text after normalization and pre-tokenization, remembering for each of its UTF-16
/// units which span of the caller's original string it came from (Hugging Face's NormalizedString).
/// </summary>
/// <remarks>
/// Untouched text keeps no arrays: unit i maps to [Base + i, Base + i + 1). That fast path matters
/// because byte-level English text never leaves it.
/// </remarks>
internal sealed class NormalizedText
{
    private readonly int[]? _starts;
    private readonly int[]? _ends;
    private readonly int _base;

    private NormalizedText(string text, int baseOffset, int[]? starts, int[]? ends)
    {
        Text = text;
        _base = baseOffset;
        _starts = starts;
        _ends = ends;
    }

    /// <summary>The text in its current form.</summary>
    public string Text { get; }

    public int Length => Text.Length;

    /// <summary>A piece of the original string, unchanged, that begins at <paramref name="baseOffset"/>.</summary>
    public static NormalizedText Original(string text, int baseOffset) => new(text, baseOffset, null, null);

    /// <summary>Text whose unit i came from the original span [starts[i], ends[i]).</summary>
    public static NormalizedText Aligned(string text, int[] starts, int[] ends) => new(text, 0, starts, ends);

    /// <summary>Same alignment, new characters of the same length (a one-to-one character map).</summary>
    public NormalizedText WithSameAlignment(string text) => new(text, _base, _starts, _ends);

    public int OriginalStart(int unit) => _starts is null ? _base + unit : _starts[unit];

    public int OriginalEnd(int unit) => _ends is null ? _base + unit + 1 : _ends[unit];

    /// <summary>The original span covered by units [from, to); an empty range maps to an empty span.</summary>
    public (int Start, int End) OriginalSpan(int from, int to)
    {
        if (to <= from)
        {
            int at = from < Length ? OriginalStart(from) : (Length == 0 ? _base : OriginalEnd(Length - 1));
            return (at, at);
        }
        if (_starts is null)
            return (_base + from, _base + to);
        int start = _starts[from], end = _ends![from];
        for (int i = from + 1; i < to; i++)
        {
            start = Math.Min(start, _starts[i]);
            end = Math.Max(end, _ends[i]);
        }
        return (start, end);
    }

    /// <summary>Units [from, to) as their own piece.</summary>
    public NormalizedText Slice(int from, int to)
    {
        if (from == 0 && to == Length)
            return this;
        string text = Text.Substring(from, to - from);
        if (_starts is null)
            return new NormalizedText(text, _base + from, null, null);
        return new NormalizedText(text, 0, _starts[from..to], _ends![from..to]);
    }
}
