using System.Text;
using Distill.Text.Conversations;

namespace Distill.Tests.Text.Conversations;

/// <summary>Bytes that are not UTF-8 are a bad line, never U+FFFD trained on; a bad line's reason is quoted only in part.</summary>
public class Utf8LineTests
{
    private const string Good = """{"prompt": "a", "completion": "b"}""";

    private static TempJsonl WithBytes(params byte[][] lines)
    {
        var file = new TempJsonl("");
        File.WriteAllBytes(file.Path, lines.SelectMany(l => l.Concat("\n"u8.ToArray())).ToArray());
        return file;
    }

    [Fact]
    public void A_Line_With_Invalid_Utf8_Should_Name_File_Line_And_Byte_Or_Be_Skipped()
    {
        var bad = Encoding.UTF8.GetBytes("""{"prompt": "a", "completion": "bX"}""");
        bad[Array.IndexOf(bad, (byte)'X')] = 0xFF;
        using var file = WithBytes(Encoding.UTF8.GetBytes(Good), bad);

        var error = Assert.Throws<InvalidDataException>(() => ConversationReader.Open(file.Path).Read().ToList());
        var skipping = ConversationReader.Open(file.Path, new ConversationReaderOptions(SkipBad: true));

        Assert.Equal($"{file.Path}:2: not valid UTF-8 (byte 33 of the line)", error.Message);
        Assert.Equal(1, Assert.Single(skipping.Read()).Line);
        Assert.Equal(2, Assert.Single(skipping.Skipped).Line);
    }

    [Fact]
    public void A_Replacement_Character_Written_As_Valid_Utf8_And_A_Byte_Order_Mark_Should_Be_Accepted()
    {
        using var file = WithBytes([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"prompt": "a", "completion": "b\uFFFD"}""")]);

        var conversation = Assert.Single(ConversationReader.Open(file.Path).Read());

        Assert.Equal("b\uFFFD", conversation.Messages[1].Content);
    }

    [Fact]
    public void A_Bad_Lines_Reason_Should_Be_Quoted_Only_By_Its_Prefix()
    {
        var line = new BadLine("f.jsonl", 3, "bad: " + new string('x', 10_000_000));

        Assert.True(line.ToString().Length < BadLine.MaxReasonChars + 20);
        Assert.StartsWith("f.jsonl:3: bad: xxx", line.ToString(), StringComparison.Ordinal);
    }
}
