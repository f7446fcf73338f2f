using System.Text.RegularExpressions;

namespace Distill.Evaluation;

/// <summary>
/// Scores a generated answer against a reference. Exact match compares both after trimming whitespace.
/// A reference "ends in a final answer" when its last line ends with <c>#### X</c> (GSM8K's convention) or
/// <c>= X</c>, X a number (digits, optional sign, decimal point and thousands commas); the generated answer then
/// "contains the final answer" when X occurs in it as a whole number (not inside a longer number).
/// </summary>
public static partial class AnswerScoring
{
    /// <summary>True when both texts are equal after trimming leading and trailing whitespace.</summary>
    public static bool ExactMatch(string generated, string reference) =>
        string.Equals(generated.Trim(), reference.Trim(), StringComparison.Ordinal);

    /// <summary>The number X that <paramref name="reference"/> ends with after <c>####</c> or <c>=</c>, or null.</summary>
    public static string? FinalAnswer(string reference)
    {
        var match = FinalAnswerPattern().Match(reference.TrimEnd());
        return match.Success ? match.Groups["answer"].Value : null;
    }

    /// <summary>True when <paramref name="answer"/> occurs in <paramref name="generated"/> not flanked by digits, '.' or ','.</summary>
    public static bool ContainsAnswer(string generated, string answer) =>
        Regex.IsMatch(generated, $@"(?<![\d.,]){Regex.Escape(answer)}(?![\d]|[.,]\d)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"(?:####|=)[ \t]*(?<answer>[-+]?\d[\d,]*(?:\.\d+)?)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FinalAnswerPattern();
}
