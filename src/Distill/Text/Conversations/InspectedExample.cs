namespace Distill.Text.Conversations;

/// <summary>A tokenized example together with the text it was rendered from, for showing it to a person.</summary>
/// <param name="Example">The example.</param>
/// <param name="Text">The whole rendered conversation (also the part cut off by truncation).</param>
/// <param name="Offsets">Character range of each kept token in <paramref name="Text"/>.</param>
public sealed record InspectedExample(TokenizedExample Example, string Text, (int Start, int End)[] Offsets)
{
    /// <summary>
    /// <see cref="Text"/> split into consecutive runs that are, or are not, covered by supervised tokens;
    /// concatenated, the runs give back the text.
    /// </summary>
    public IReadOnlyList<(string Text, bool Supervised)> Segments()
    {
        var supervised = new bool[Text.Length];
        for (var t = 0; t < Offsets.Length; t++)
        {
            if (Example.LossMask[t] != 0)
                Array.Fill(supervised, true, Offsets[t].Start, Offsets[t].End - Offsets[t].Start);
        }
        var segments = new List<(string, bool)>();
        var start = 0;
        for (var i = 1; i <= Text.Length; i++)
        {
            if (i == Text.Length || supervised[i] != supervised[start])
            {
                segments.Add((Text[start..i], supervised[start]));
                start = i;
            }
        }
        return segments;
    }
}
