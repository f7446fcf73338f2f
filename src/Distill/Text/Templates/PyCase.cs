using System.Globalization;
using System.Text;

namespace Distill.Text.Templates;

/// <summary>
/// Python's full Unicode case mapping, which .NET's simple per-character mapping lacks: 'ß'.upper() is "SS",
/// 'İ'.lower() is two characters, titlecase differs from uppercase for digraphs such as 'ǆ', and a final
/// capital sigma lowercases to 'ς'. The tables hold only the code points where Python's result is not the
/// simple mapping (generated from CPython 3.11's unicodedata).
/// </summary>
internal static class PyCase
{
    // Code points whose upper case is several characters.
    private static readonly Dictionary<int, string> UpperSpecial = new()
    {
        [0xDF] = "\u0053\u0053", [0x149] = "\u02bc\u004e", [0x1F0] = "\u004a\u030c", [0x390] = "\u0399\u0308\u0301",
        [0x3B0] = "\u03a5\u0308\u0301", [0x587] = "\u0535\u0552", [0x1E96] = "\u0048\u0331", [0x1E97] = "\u0054\u0308",
        [0x1E98] = "\u0057\u030a", [0x1E99] = "\u0059\u030a", [0x1E9A] = "\u0041\u02be", [0x1F50] = "\u03a5\u0313",
        [0x1F52] = "\u03a5\u0313\u0300", [0x1F54] = "\u03a5\u0313\u0301", [0x1F56] = "\u03a5\u0313\u0342", [0x1F80] = "\u1f08\u0399",
        [0x1F81] = "\u1f09\u0399", [0x1F82] = "\u1f0a\u0399", [0x1F83] = "\u1f0b\u0399", [0x1F84] = "\u1f0c\u0399",
        [0x1F85] = "\u1f0d\u0399", [0x1F86] = "\u1f0e\u0399", [0x1F87] = "\u1f0f\u0399", [0x1F88] = "\u1f08\u0399",
        [0x1F89] = "\u1f09\u0399", [0x1F8A] = "\u1f0a\u0399", [0x1F8B] = "\u1f0b\u0399", [0x1F8C] = "\u1f0c\u0399",
        [0x1F8D] = "\u1f0d\u0399", [0x1F8E] = "\u1f0e\u0399", [0x1F8F] = "\u1f0f\u0399", [0x1F90] = "\u1f28\u0399",
        [0x1F91] = "\u1f29\u0399", [0x1F92] = "\u1f2a\u0399", [0x1F93] = "\u1f2b\u0399", [0x1F94] = "\u1f2c\u0399",
        [0x1F95] = "\u1f2d\u0399", [0x1F96] = "\u1f2e\u0399", [0x1F97] = "\u1f2f\u0399", [0x1F98] = "\u1f28\u0399",
        [0x1F99] = "\u1f29\u0399", [0x1F9A] = "\u1f2a\u0399", [0x1F9B] = "\u1f2b\u0399", [0x1F9C] = "\u1f2c\u0399",
        [0x1F9D] = "\u1f2d\u0399", [0x1F9E] = "\u1f2e\u0399", [0x1F9F] = "\u1f2f\u0399", [0x1FA0] = "\u1f68\u0399",
        [0x1FA1] = "\u1f69\u0399", [0x1FA2] = "\u1f6a\u0399", [0x1FA3] = "\u1f6b\u0399", [0x1FA4] = "\u1f6c\u0399",
        [0x1FA5] = "\u1f6d\u0399", [0x1FA6] = "\u1f6e\u0399", [0x1FA7] = "\u1f6f\u0399", [0x1FA8] = "\u1f68\u0399",
        [0x1FA9] = "\u1f69\u0399", [0x1FAA] = "\u1f6a\u0399", [0x1FAB] = "\u1f6b\u0399", [0x1FAC] = "\u1f6c\u0399",
        [0x1FAD] = "\u1f6d\u0399", [0x1FAE] = "\u1f6e\u0399", [0x1FAF] = "\u1f6f\u0399", [0x1FB2] = "\u1fba\u0399",
        [0x1FB3] = "\u0391\u0399", [0x1FB4] = "\u0386\u0399", [0x1FB6] = "\u0391\u0342", [0x1FB7] = "\u0391\u0342\u0399",
        [0x1FBC] = "\u0391\u0399", [0x1FC2] = "\u1fca\u0399", [0x1FC3] = "\u0397\u0399", [0x1FC4] = "\u0389\u0399",
        [0x1FC6] = "\u0397\u0342", [0x1FC7] = "\u0397\u0342\u0399", [0x1FCC] = "\u0397\u0399", [0x1FD2] = "\u0399\u0308\u0300",
        [0x1FD3] = "\u0399\u0308\u0301", [0x1FD6] = "\u0399\u0342", [0x1FD7] = "\u0399\u0308\u0342", [0x1FE2] = "\u03a5\u0308\u0300",
        [0x1FE3] = "\u03a5\u0308\u0301", [0x1FE4] = "\u03a1\u0313", [0x1FE6] = "\u03a5\u0342", [0x1FE7] = "\u03a5\u0308\u0342",
        [0x1FF2] = "\u1ffa\u0399", [0x1FF3] = "\u03a9\u0399", [0x1FF4] = "\u038f\u0399", [0x1FF6] = "\u03a9\u0342",
        [0x1FF7] = "\u03a9\u0342\u0399", [0x1FFC] = "\u03a9\u0399", [0xFB00] = "\u0046\u0046", [0xFB01] = "\u0046\u0049",
        [0xFB02] = "\u0046\u004c", [0xFB03] = "\u0046\u0046\u0049", [0xFB04] = "\u0046\u0046\u004c", [0xFB05] = "\u0053\u0054",
        [0xFB06] = "\u0053\u0054", [0xFB13] = "\u0544\u0546", [0xFB14] = "\u0544\u0535", [0xFB15] = "\u0544\u053b",
        [0xFB16] = "\u054e\u0546", [0xFB17] = "\u0544\u053d",
    };

    // Code points whose lower case is several characters.
    private static readonly Dictionary<int, string> LowerSpecial = new()
    {
        [0x130] = "\u0069\u0307",
    };

    // Code points whose title case is not their (simple) upper case.
    private static readonly Dictionary<int, string> TitleSpecial = new()
    {
        [0xDF] = "\u0053\u0073", [0x149] = "\u02bc\u004e", [0x1C4] = "\u01c5", [0x1C5] = "\u01c5",
        [0x1C6] = "\u01c5", [0x1C7] = "\u01c8", [0x1C8] = "\u01c8", [0x1C9] = "\u01c8",
        [0x1CA] = "\u01cb", [0x1CB] = "\u01cb", [0x1CC] = "\u01cb", [0x1F0] = "\u004a\u030c",
        [0x1F1] = "\u01f2", [0x1F2] = "\u01f2", [0x1F3] = "\u01f2", [0x390] = "\u0399\u0308\u0301",
        [0x3B0] = "\u03a5\u0308\u0301", [0x587] = "\u0535\u0582", [0x10D0] = "\u10d0", [0x10D1] = "\u10d1",
        [0x10D2] = "\u10d2", [0x10D3] = "\u10d3", [0x10D4] = "\u10d4", [0x10D5] = "\u10d5",
        [0x10D6] = "\u10d6", [0x10D7] = "\u10d7", [0x10D8] = "\u10d8", [0x10D9] = "\u10d9",
        [0x10DA] = "\u10da", [0x10DB] = "\u10db", [0x10DC] = "\u10dc", [0x10DD] = "\u10dd",
        [0x10DE] = "\u10de", [0x10DF] = "\u10df", [0x10E0] = "\u10e0", [0x10E1] = "\u10e1",
        [0x10E2] = "\u10e2", [0x10E3] = "\u10e3", [0x10E4] = "\u10e4", [0x10E5] = "\u10e5",
        [0x10E6] = "\u10e6", [0x10E7] = "\u10e7", [0x10E8] = "\u10e8", [0x10E9] = "\u10e9",
        [0x10EA] = "\u10ea", [0x10EB] = "\u10eb", [0x10EC] = "\u10ec", [0x10ED] = "\u10ed",
        [0x10EE] = "\u10ee", [0x10EF] = "\u10ef", [0x10F0] = "\u10f0", [0x10F1] = "\u10f1",
        [0x10F2] = "\u10f2", [0x10F3] = "\u10f3", [0x10F4] = "\u10f4", [0x10F5] = "\u10f5",
        [0x10F6] = "\u10f6", [0x10F7] = "\u10f7", [0x10F8] = "\u10f8", [0x10F9] = "\u10f9",
        [0x10FA] = "\u10fa", [0x10FD] = "\u10fd", [0x10FE] = "\u10fe", [0x10FF] = "\u10ff",
        [0x1E96] = "\u0048\u0331", [0x1E97] = "\u0054\u0308", [0x1E98] = "\u0057\u030a", [0x1E99] = "\u0059\u030a",
        [0x1E9A] = "\u0041\u02be", [0x1F50] = "\u03a5\u0313", [0x1F52] = "\u03a5\u0313\u0300", [0x1F54] = "\u03a5\u0313\u0301",
        [0x1F56] = "\u03a5\u0313\u0342", [0x1F80] = "\u1f88", [0x1F81] = "\u1f89", [0x1F82] = "\u1f8a",
        [0x1F83] = "\u1f8b", [0x1F84] = "\u1f8c", [0x1F85] = "\u1f8d", [0x1F86] = "\u1f8e",
        [0x1F87] = "\u1f8f", [0x1F88] = "\u1f88", [0x1F89] = "\u1f89", [0x1F8A] = "\u1f8a",
        [0x1F8B] = "\u1f8b", [0x1F8C] = "\u1f8c", [0x1F8D] = "\u1f8d", [0x1F8E] = "\u1f8e",
        [0x1F8F] = "\u1f8f", [0x1F90] = "\u1f98", [0x1F91] = "\u1f99", [0x1F92] = "\u1f9a",
        [0x1F93] = "\u1f9b", [0x1F94] = "\u1f9c", [0x1F95] = "\u1f9d", [0x1F96] = "\u1f9e",
        [0x1F97] = "\u1f9f", [0x1F98] = "\u1f98", [0x1F99] = "\u1f99", [0x1F9A] = "\u1f9a",
        [0x1F9B] = "\u1f9b", [0x1F9C] = "\u1f9c", [0x1F9D] = "\u1f9d", [0x1F9E] = "\u1f9e",
        [0x1F9F] = "\u1f9f", [0x1FA0] = "\u1fa8", [0x1FA1] = "\u1fa9", [0x1FA2] = "\u1faa",
        [0x1FA3] = "\u1fab", [0x1FA4] = "\u1fac", [0x1FA5] = "\u1fad", [0x1FA6] = "\u1fae",
        [0x1FA7] = "\u1faf", [0x1FA8] = "\u1fa8", [0x1FA9] = "\u1fa9", [0x1FAA] = "\u1faa",
        [0x1FAB] = "\u1fab", [0x1FAC] = "\u1fac", [0x1FAD] = "\u1fad", [0x1FAE] = "\u1fae",
        [0x1FAF] = "\u1faf", [0x1FB2] = "\u1fba\u0345", [0x1FB3] = "\u1fbc", [0x1FB4] = "\u0386\u0345",
        [0x1FB6] = "\u0391\u0342", [0x1FB7] = "\u0391\u0342\u0345", [0x1FBC] = "\u1fbc", [0x1FC2] = "\u1fca\u0345",
        [0x1FC3] = "\u1fcc", [0x1FC4] = "\u0389\u0345", [0x1FC6] = "\u0397\u0342", [0x1FC7] = "\u0397\u0342\u0345",
        [0x1FCC] = "\u1fcc", [0x1FD2] = "\u0399\u0308\u0300", [0x1FD3] = "\u0399\u0308\u0301", [0x1FD6] = "\u0399\u0342",
        [0x1FD7] = "\u0399\u0308\u0342", [0x1FE2] = "\u03a5\u0308\u0300", [0x1FE3] = "\u03a5\u0308\u0301", [0x1FE4] = "\u03a1\u0313",
        [0x1FE6] = "\u03a5\u0342", [0x1FE7] = "\u03a5\u0308\u0342", [0x1FF2] = "\u1ffa\u0345", [0x1FF3] = "\u1ffc",
        [0x1FF4] = "\u038f\u0345", [0x1FF6] = "\u03a9\u0342", [0x1FF7] = "\u03a9\u0342\u0345", [0x1FFC] = "\u1ffc",
        [0xFB00] = "\u0046\u0066", [0xFB01] = "\u0046\u0069", [0xFB02] = "\u0046\u006c", [0xFB03] = "\u0046\u0066\u0069",
        [0xFB04] = "\u0046\u0066\u006c", [0xFB05] = "\u0053\u0074", [0xFB06] = "\u0053\u0074", [0xFB13] = "\u0544\u0576",
        [0xFB14] = "\u0544\u0565", [0xFB15] = "\u0544\u056b", [0xFB16] = "\u054e\u0576", [0xFB17] = "\u0544\u056d",
    };

    public static string Upper(string s)
    {
        if (!s.Any(c => c > 0x7F)) return s.ToUpperInvariant();
        var sb = new StringBuilder(s.Length);
        foreach (var cp in PyStr.CodePoints(s)) sb.Append(UpperOne(cp));
        return sb.ToString();
    }

    public static string Lower(string s)
    {
        if (!s.Any(c => c > 0x7F)) return s.ToLowerInvariant();
        var cps = PyStr.CodePoints(s);
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < cps.Count; i++) sb.Append(LowerAt(cps, i));
        return sb.ToString();
    }

    /// <summary>Upper case of one code point.</summary>
    public static string UpperOne(string cp) => UpperSpecial.TryGetValue(PyStr.CodeOf(cp), out var u) ? u : cp.ToUpperInvariant();

    /// <summary>Title case of one code point.</summary>
    public static string TitleOne(string cp) => TitleSpecial.TryGetValue(PyStr.CodeOf(cp), out var t) ? t : cp.ToUpperInvariant();

    /// <summary>Lower case of the code point at <paramref name="i"/>, which for capital sigma depends on its neighbours.</summary>
    public static string LowerAt(List<string> cps, int i)
    {
        if (cps[i] == "\u03a3") return IsFinalSigma(cps, i) ? "\u03c2" : "\u03c3";
        return LowerSpecial.TryGetValue(PyStr.CodeOf(cps[i]), out var l) ? l : cps[i].ToLowerInvariant();
    }

    public static bool IsCased(string cp)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(cp, 0);
        return category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;
    }

    // Unicode's Final_Sigma: a cased letter comes before (skipping case-ignorables) and none comes after.
    private static bool IsFinalSigma(List<string> cps, int at)
    {
        var before = at - 1;
        while (before >= 0 && IsCaseIgnorable(cps[before])) before--;
        if (before < 0 || !IsCased(cps[before])) return false;
        var after = at + 1;
        while (after < cps.Count && IsCaseIgnorable(cps[after])) after++;
        return after >= cps.Count || !IsCased(cps[after]);
    }

    private static bool IsCaseIgnorable(string cp)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(cp, 0);
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol || cp is "'" or "." or ":" or "\u00b7" or "\u2019";
    }
}
