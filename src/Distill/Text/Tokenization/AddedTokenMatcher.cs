using System.Buffers;
using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>
/// An entry of tokenizer.json's <c>added_tokens</c>: text matched as a whole before the model runs.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text of the token.</param>
/// <param name="SingleWord">Only match when not glued to a word character on either side.</param>
/// <param name="LStrip">Swallow whitespace on the left into the token.</param>
/// <param name="RStrip">Swallow whitespace on the right into the token.</param>
/// <param name="Normalized">Match in the normalized text (against the normalized content) instead of the raw text.</param>
/// <param name="Special">A control token: skipped by <c>Decode(skipSpecialTokens: true)</c>.</param>
public sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special);

/// <summary>
/// Finds added tokens in text the way Hugging Face's Aho-Corasick pass does: leftmost match first,
/// longest among those starting there, never overlapping; a match rejected by <c>single_word</c>
/// still consumes its span; <c>lstrip</c>/<c>rstrip</c> widen the token over adjacent whitespace.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> patterns)
    {
        _byFirstChar = patterns
            .Where(p => p.Pattern.Length > 0)
            .GroupBy(p => p.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
        _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Cuts <paramref name="text"/> into plain pieces (token id -1) and added tokens, in order.</summary>
    public void Split(NormalizedText text, List<(NormalizedText Piece, int TokenId)> output)
    {
        string s = text.Text;
        int searchFrom = 0, consumed = 0;
        while (searchFrom < s.Length)
        {
            int at = s.AsSpan(searchFrom).IndexOfAny(_firstChars);
            if (at < 0)
                break;
            at += searchFrom;
            var match = LongestAt(s, at);
            if (match is null)
            {
                searchFrom = at + 1;
                continue;
            }
            var (pattern, token) = match.Value;
            int start = at, stop = at + pattern.Length;
            searchFrom = stop;
            if (token.SingleWord && (EndsWithWordChar(s, start) || StartsWithWordChar(s, stop)))
                continue;
            if (token.LStrip)
            {
                while (start > consumed && char.IsWhiteSpace(s[start - 1]))
                    start--;
            }
            if (token.RStrip)
            {
                while (stop < s.Length && char.IsWhiteSpace(s[stop]))
                    stop++;
            }
            if (consumed < start)
                output.Add((text.Slice(consumed, start), -1));
            output.Add((text.Slice(start, stop), token.Id));
            consumed = stop;
            searchFrom = Math.Max(searchFrom, stop);
        }
        if (consumed < s.Length)
            output.Add((text.Slice(consumed, s.Length), -1));
    }

    private (string Pattern, AddedToken Token)? LongestAt(string s, int at)
    {
        foreach (var candidate in _byFirstChar[s[at]])
        {
            if (s.AsSpan(at).StartsWith(candidate.Pattern, StringComparison.Ordinal))
                return candidate;
        }
        return null;
    }

    private static bool EndsWithWordChar(string s, int end)
    {
        if (end == 0)
            return false;
        int i = char.IsLowSurrogate(s[end - 1]) && end >= 2 && char.IsHighSurrogate(s[end - 2]) ? end - 2 : end - 1;
        Rune.DecodeFromUtf16(s.AsSpan(i), out Rune rune, out _);
        return IsWordChar(rune);
    }

    private static bool StartsWithWordChar(string s, int start)
    {
        if (start >= s.Length)
            return false;
        Rune.DecodeFromUtf16(s.AsSpan(start), out Rune rune, out _);
        return IsWordChar(rune);
    }

    /// <summary>Rust's Unicode <c>\w</c>: letters, marks, decimal digits, letter numbers, connectors, ZWJ/ZWNJ.</summary>
    private static bool IsWordChar(Rune rune)
    {
        if (rune.Value is 0x200C or 0x200D)
            return true;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
                or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}
