using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to printable characters: printable Latin-1
/// bytes map to themselves, the other 68 to U+0100 onwards in byte order (so a space is 'Ġ').
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The byte a byte-level character stands for, or -1 when it is not one.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>Maps each UTF-8 byte of the piece to its character; every byte keeps its character's span.</summary>
    public static NormalizedText Map(NormalizedText piece)
    {
        string s = piece.Text;
        if (!Ascii.IsValid(s))
            return MapWide(piece);
        string mapped = string.Create(s.Length, s, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
                span[i] = ByteToChar[source[i]];
        });
        return piece.WithSameAlignment(mapped);
    }

    private static NormalizedText MapWide(NormalizedText piece)
    {
        string s = piece.Text;
        var builder = new NormalizedTextBuilder(s.Length * 3);
        Span<byte> utf8 = stackalloc byte[4];
        int i = 0;
        while (i < s.Length)
        {
            Rune.DecodeFromUtf16(s.AsSpan(i), out Rune rune, out int width);
            int count = rune.EncodeToUtf8(utf8);
            var (start, end) = piece.OriginalSpan(i, i + width);
            for (int b = 0; b < count; b++)
                builder.Append(ByteToChar[utf8[b]], start, end);
            i += width;
        }
        return builder.Build();
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[324];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++)
            table[ByteToChar[b]] = (short)b;
        return table;
    }
}
