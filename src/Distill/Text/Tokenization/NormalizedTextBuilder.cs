using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>Builds a <see cref="NormalizedText"/> unit by unit, each with its original span.</summary>
internal sealed class NormalizedTextBuilder
{
    private readonly StringBuilder _text;
    private int[] _starts;
    private int[] _ends;

    public NormalizedTextBuilder(int capacity)
    {
        capacity = Math.Max(capacity, 4);
        _text = new StringBuilder(capacity);
        _starts = new int[capacity];
        _ends = new int[capacity];
    }

    public int Length => _text.Length;

    public void Append(char c, int originalStart, int originalEnd)
    {
        if (_text.Length == _starts.Length)
        {
            Array.Resize(ref _starts, _starts.Length * 2);
            Array.Resize(ref _ends, _ends.Length * 2);
        }
        _starts[_text.Length] = originalStart;
        _ends[_text.Length] = originalEnd;
        _text.Append(c);
    }

    /// <summary>Appends every unit of <paramref name="s"/> with the same original span.</summary>
    public void Append(string s, int originalStart, int originalEnd)
    {
        foreach (char c in s)
            Append(c, originalStart, originalEnd);
    }

    /// <summary>Copies units [from, to) of <paramref name="source"/> with their alignment.</summary>
    public void AppendFrom(NormalizedText source, int from, int to)
    {
        for (int i = from; i < to; i++)
            Append(source.Text[i], source.OriginalStart(i), source.OriginalEnd(i));
    }

    public NormalizedText Build()
    {
        int n = _text.Length;
        return NormalizedText.Aligned(_text.ToString(), _starts[..n], _ends[..n]);
    }
}
