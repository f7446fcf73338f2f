using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Distill.Text.Tokenization;

/// <summary>
/// A tokenizer.json regex run so that it sees code points, as Oniguruma and Rust's regex do.
/// </summary>
/// <remarks>
/// .NET Regex sees UTF-16 units: an astral letter is two surrogates, neither of them \p{L}, so
/// <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would split "😀a" differently from Hugging Face. When the text
/// holds surrogates the regex runs on a shadow string with one unit per code point, each astral
/// code point replaced by a BMP stand-in of the same Unicode category; matches are then mapped
/// back to UTF-16 ranges of the real text. The .NET <c>\s</c> class equals Unicode White_Space,
/// which is what Oniguruma's <c>\s</c> means, so the standard patterns need no rewriting.
/// </remarks>
internal sealed class CodePointRegex : ISplitPattern
{
    // A pattern from a downloaded file could backtrack catastrophically; fail instead of hanging.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(10);
    private static readonly char[] StandIns = BuildStandIns();
    private readonly Regex _regex;

    public CodePointRegex(string pattern, JsonSource source, string path)
    {
        Pattern = pattern;
        try
        {
            _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException(
                $"{source.File}: '{path}' regex /{pattern}/ is not supported by the .NET regex engine ({e.Message})", e);
        }
    }

    public string Pattern { get; }

    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text))
            {
                if (m.Length > 0)
                    matches.Add((m.Index, m.Index + m.Length));
            }
            return;
        }
        var (shadow, unitOf) = Shadow(text);
        foreach (var m in _regex.EnumerateMatches(shadow))
        {
            if (m.Length > 0)
                matches.Add((unitOf[m.Index], unitOf[m.Index + m.Length]));
        }
    }

    /// <summary>One unit per code point; unitOf[k] is the UTF-16 index of code point k (and of the end).</summary>
    internal static (string Shadow, int[] UnitOf) Shadow(string text)
    {
        var shadow = new char[text.Length];
        var unitOf = new int[text.Length + 1];
        int n = 0, i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int width);
            unitOf[n] = i;
            shadow[n++] = rune.IsBmp ? (char)rune.Value : StandIns[(int)Rune.GetUnicodeCategory(rune)];
            i += width;
        }
        unitOf[n] = text.Length;
        return (new string(shadow, 0, n), unitOf[..(n + 1)]);
    }

    /// <summary>A BMP character of every general category; only their categories matter.</summary>
    internal static char[] BuildStandIns()
    {
        var table = new char[30];
        void Set(UnicodeCategory category, char c) => table[(int)category] = c;
        Set(UnicodeCategory.UppercaseLetter, 'A');
        Set(UnicodeCategory.LowercaseLetter, 'a');
        Set(UnicodeCategory.TitlecaseLetter, '\u01C5');
        Set(UnicodeCategory.ModifierLetter, '\u02B0');
        Set(UnicodeCategory.OtherLetter, '\u05D0');
        Set(UnicodeCategory.NonSpacingMark, '\u0300');
        Set(UnicodeCategory.SpacingCombiningMark, '\u0903');
        Set(UnicodeCategory.EnclosingMark, '\u20DD');
        Set(UnicodeCategory.DecimalDigitNumber, '\u0660');
        Set(UnicodeCategory.LetterNumber, '\u2160');
        Set(UnicodeCategory.OtherNumber, '\u00B2');
        Set(UnicodeCategory.SpaceSeparator, '\u2002');
        Set(UnicodeCategory.LineSeparator, '\u2028');
        Set(UnicodeCategory.ParagraphSeparator, '\u2029');
        Set(UnicodeCategory.Control, '\u0001');
        Set(UnicodeCategory.Format, '\u2060');
        Set(UnicodeCategory.Surrogate, '\uFFFD');
        Set(UnicodeCategory.PrivateUse, '\uE000');
        Set(UnicodeCategory.ConnectorPunctuation, '\u203F');
        Set(UnicodeCategory.DashPunctuation, '\u2010');
        Set(UnicodeCategory.OpenPunctuation, '\u2045');
        Set(UnicodeCategory.ClosePunctuation, '\u2046');
        Set(UnicodeCategory.InitialQuotePunctuation, '\u00AB');
        Set(UnicodeCategory.FinalQuotePunctuation, '\u00BB');
        Set(UnicodeCategory.OtherPunctuation, '\u2016');
        Set(UnicodeCategory.MathSymbol, '\u2200');
        Set(UnicodeCategory.CurrencySymbol, '\u20A0');
        Set(UnicodeCategory.ModifierSymbol, '\u02C2');
        Set(UnicodeCategory.OtherSymbol, '\u2100');
        Set(UnicodeCategory.OtherNotAssigned, '\uFFFE');
        return table;
    }
}
