namespace Distill.Synthetic;

/// <summary>
/// ROUGE-L (Lin, 2004) as Google's <c>rouge-score</c> package computes it without a stemmer, which is what Alpaca's and
/// self-instruct's near-duplicate filter uses. Tokens: the text lowercased, then every maximal run of <c>[a-z0-9]</c>
/// (the package replaces everything else by spaces and splits on whitespace, so punctuation and non-Latin letters are
/// separators). With L the longest common subsequence of the token lists: P = L / |candidate|, R = L / |reference|,
/// F = 2PR / (P + R), and 0 when either list is empty or L is 0. F is symmetric in its two arguments.
/// </summary>
public static class RougeL
{
    /// <summary>The package's tokens of <paramref name="text"/>.</summary>
    public static string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        var lower = text.ToLowerInvariant();
        var start = -1;
        for (var i = 0; i <= lower.Length; i++)
        {
            var inToken = i < lower.Length && lower[i] is >= 'a' and <= 'z' or >= '0' and <= '9';
            if (inToken && start < 0) start = i;
            else if (!inToken && start >= 0)
            {
                tokens.Add(lower[start..i]);
                start = -1;
            }
        }
        return [.. tokens];
    }

    /// <summary>The F-measure of two texts.</summary>
    public static double F(string candidate, string reference) => F(Tokenize(candidate), Tokenize(reference));

    /// <summary>The F-measure of two token lists (tokenize once when one text meets many).</summary>
    public static double F(IReadOnlyList<string> candidate, IReadOnlyList<string> reference)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        if (candidate.Count == 0 || reference.Count == 0) return 0;
        var lcs = LcsLength(candidate, reference);
        if (lcs == 0) return 0;
        double precision = (double)lcs / candidate.Count, recall = (double)lcs / reference.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Length of the longest common subsequence, by the textbook dynamic programme over two rows: O(|a|·|b|) time, O(|b|) memory.</summary>
    public static int LcsLength(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
