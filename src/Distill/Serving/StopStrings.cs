using Distill.Text.Tokenization;

namespace Distill.Serving;

/// <summary>
/// OpenAI's <c>stop</c> strings, applied after sampling on the decoded text: the continuation ends before the first
/// occurrence of any of them, and its tokens end with the one that completed it. Sampling runs to the token limit or a
/// stop id regardless (a string can span tokens, which the sampler's id test cannot see).
/// </summary>
internal static class StopStrings
{
    /// <summary>The tokens and text kept, and whether a stop string cut them.</summary>
    public static (int[] Tokens, string Text, bool Stopped) Apply(HfTokenizer tokenizer, int[] tokens, IReadOnlyList<string> stop)
    {
        var text = tokenizer.Decode(tokens, skipSpecialTokens: true);
        if (stop.Count == 0 || First(text, stop) < 0) return (tokens, text, false);
        // The shortest token prefix whose text holds a stop string: O(n²) decoding, paid only when one occurs.
        for (var k = 1; k <= tokens.Length; k++)
        {
            var prefix = tokenizer.Decode(tokens[..k], skipSpecialTokens: true);
            var at = First(prefix, stop);
            if (at >= 0) return (tokens[..k], prefix[..at], true);
        }
        return (tokens, text, false); // unreachable: the whole text holds one
    }

    /// <summary>The text pieces each token adds, so that their concatenation is <paramref name="text"/> (for streaming).</summary>
    public static List<string> Pieces(HfTokenizer tokenizer, int[] tokens, string text)
    {
        var pieces = new List<string>(tokens.Length);
        var sent = 0;
        for (var k = 1; k <= tokens.Length; k++)
        {
            // A token that ends inside a multi-byte character decodes to U+FFFD until the character is complete: hold it back.
            var prefix = k == tokens.Length ? text : tokenizer.Decode(tokens[..k], skipSpecialTokens: true);
            var end = Math.Min(prefix.Length, text.Length);
            if (prefix.EndsWith('\uFFFD') && k < tokens.Length) end = Math.Min(end, prefix.Length - 1);
            if (end < sent || !text.AsSpan(0, end).SequenceEqual(prefix.AsSpan(0, end))) end = sent;
            pieces.Add(text[sent..end]);
            sent = end;
        }
        if (sent < text.Length && pieces.Count > 0) pieces[^1] += text[sent..];
        return pieces;
    }

    private static int First(string text, IReadOnlyList<string> stop)
    {
        var first = -1;
        foreach (var s in stop)
        {
            var at = text.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }
}
