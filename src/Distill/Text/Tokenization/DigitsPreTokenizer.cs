using System.Globalization;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>Separates numeric characters from the rest, one by one or in runs (<c>{"type": "Digits"}</c>).</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : IPreTokenizer
{
    private static readonly CharClassPattern Numeric = new(r => Rune.GetUnicodeCategory(r)
        is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber);

    public void PreTokenize(NormalizedText piece, List<NormalizedText> output) =>
        TextSplitter.Split(piece, Numeric, false,
            individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, output);
}
