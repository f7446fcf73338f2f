using System.Globalization;
using System.Text.RegularExpressions;

namespace Distill.Evaluation;

/// <summary>
/// Scores a generated answer against a reference. Exact match compares both after trimming whitespace.
/// A text "ends in a final answer" when its last line ends with <c>#### X</c> (GSM8K's convention), <c>= X</c> or
/// <c>The answer is X</c> (the chain-of-thought convention), optionally followed by a full stop, X a number (digits,
/// optional sign, decimal point and thousands commas). The generated answer "contains the final answer" when X occurs
/// in it as a whole number (not inside a longer number); it "has the same final answer" when it ends in a final answer
/// equal to X as a number (GSM8K's strict match).
/// </summary>
public static partial class AnswerScoring
{
    /// <summary>True when both texts are equal after trimming leading and trailing whitespace.</summary>
    public static bool ExactMatch(string generated, string reference) =>
        string.Equals(generated.Trim(), reference.Trim(), StringComparison.Ordinal);

    /// <summary>The number X that <paramref name="text"/> ends with after <c>####</c>, <c>=</c> or <c>The answer is</c>, or null.</summary>
    public static string? FinalAnswer(string text)
    {
        var match = FinalAnswerPattern().Match(text.TrimEnd());
        return match.Success ? match.Groups["answer"].Value : null;
    }

    /// <summary>True when <paramref name="answer"/> occurs in <paramref name="generated"/> not flanked by digits, '.' or ','.</summary>
    public static bool ContainsAnswer(string generated, string answer) =>
        Regex.IsMatch(generated, $@"(?<![\d.,]){Regex.Escape(answer)}(?![\d]|[.,]\d)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// True when <paramref name="generated"/> ends in a final answer equal to <paramref name="answer"/> as a number
    /// (so "1,200" equals "1200" and "+5" equals "5"), or as text when either is too long for a decimal.
    /// </summary>
    public static bool SameFinalAnswer(string generated, string answer) =>
        FinalAnswer(generated) is { } own && (Number(own) is { } x && Number(answer) is { } y ? x == y
            : string.Equals(own.Replace(",", "", StringComparison.Ordinal), answer.Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal));

    private static decimal? Number(string text) =>
        decimal.TryParse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
            CultureInfo.InvariantCulture, out var value) ? value : null;

    [GeneratedRegex(@"(?:####|=|(?i:\bthe answer is))[ \t]*(?<answer>[-+]?\d[\d,]*(?:\.\d+)?)\.?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FinalAnswerPattern();
}
