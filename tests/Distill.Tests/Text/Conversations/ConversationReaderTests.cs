using Distill.Text;
using Distill.Text.Conversations;

namespace Distill.Tests.Text.Conversations;

public class ConversationReaderTests
{
    private static List<Conversation> ReadAll(string path, ConversationFormat format = ConversationFormat.Auto) =>
        ConversationReader.Open(path, new ConversationReaderOptions(format)).Read().ToList();

    [Fact]
    public void Read_Should_Parse_HuggingFace_Messages_With_System_And_Several_Turns()
    {
        using var file = TempJsonl.FromLines(
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}], "id": 7}""");

        var conversation = Assert.Single(ReadAll(file.Path));

        Assert.Equal(
            [new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello"), new("user", "2+2?"), new("assistant", "4")],
            conversation.Messages);
        Assert.Equal(file.Path, conversation.SourceFile);
        Assert.Equal(1, conversation.Line);
    }

    [Fact]
    public void Read_Should_Accept_The_Tool_Role()
    {
        using var file = TempJsonl.FromLines(
            """{"messages": [{"role": "user", "content": "t?"}, {"role": "tool", "content": "20C"}, {"role": "assistant", "content": "Warm."}]}""");

        Assert.Equal("tool", Assert.Single(ReadAll(file.Path)).Messages[1].Role);
    }

    [Fact]
    public void Read_Should_Map_NeMo_Speakers_And_System()
    {
        using var file = TempJsonl.FromLines(
            """{"system": "You are kind.", "conversations": [{"from": "User", "value": "Q1", "label": null}, {"from": "Assistant", "value": "A1"}, {"from": "User", "value": "Q2"}, {"from": "Assistant", "value": "A2"}], "mask": "User", "type": null}""");

        Assert.Equal(
            [new("system", "You are kind."), new("user", "Q1"), new("assistant", "A1"), new("user", "Q2"), new("assistant", "A2")],
            Assert.Single(ReadAll(file.Path)).Messages);
    }

    [Fact]
    public void Read_Should_Drop_An_Empty_NeMo_System_Prompt()
    {
        using var file = TempJsonl.FromLines(
            """{"system": "", "conversations": [{"from": "User", "value": "Q"}, {"from": "Assistant", "value": "A"}], "type": "VALUE_TO_TEXT"}""");

        Assert.Equal([new("user", "Q"), new("assistant", "A")], Assert.Single(ReadAll(file.Path)).Messages);
    }

    [Fact]
    public void Read_Should_Turn_Prompt_And_Completion_Strings_Into_User_And_Assistant()
    {
        using var file = TempJsonl.FromLines("""{"prompt": "Capital of France?", "completion": " Paris."}""");

        Assert.Equal([new("user", "Capital of France?"), new("assistant", " Paris.")], Assert.Single(ReadAll(file.Path)).Messages);
    }

    [Fact]
    public void Read_Should_Accept_Conversational_Prompt_And_Completion()
    {
        using var file = TempJsonl.FromLines(
            """{"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], "completion": [{"role": "assistant", "content": "A"}]}""");

        Assert.Equal([new("system", "S"), new("user", "U"), new("assistant", "A")], Assert.Single(ReadAll(file.Path)).Messages);
    }

    [Fact]
    public void Read_Should_Detect_The_Format_Per_Line_And_Count_Lines_Including_Blank_Ones()
    {
        using var file = new TempJsonl(
            "\n" +
            """{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}""" + "\r\n" +
            "   \n" +
            """{"conversations": [{"from": "User", "value": "c"}, {"from": "Assistant", "value": "d"}]}""" + "\n" +
            """{"prompt": "e", "completion": "f"}""");

        var conversations = ReadAll(file.Path);

        Assert.Equal([2, 4, 5], conversations.Select(c => c.Line));
        Assert.Equal(["b", "d", "f"], conversations.Select(c => c.Messages[^1].Content));
    }

    [Fact]
    public void Read_Should_Accept_A_Byte_Order_Mark_And_Utf8_Text()
    {
        using var file = new TempJsonl("\uFEFF" + """{"prompt": "Grüße 👋", "completion": "日本語"}""");

        var conversation = Assert.Single(ReadAll(file.Path));

        Assert.Equal([new("user", "Grüße 👋"), new("assistant", "日本語")], conversation.Messages);
    }

    [Fact]
    public void Read_Should_Accept_The_NeMo_Text_To_Value_Type_Without_Labels()
    {
        using var file = TempJsonl.FromLines(
            """{"system": "S", "conversations": [{"from": "User", "value": "Q"}, {"from": "Assistant", "value": "A"}], "mask": "User", "type": "TEXT_TO_VALUE"}""");

        Assert.Equal([new("system", "S"), new("user", "Q"), new("assistant", "A")], Assert.Single(ReadAll(file.Path, ConversationFormat.NeMo)).Messages);
    }

    [Fact]
    public void Read_Should_Use_The_Selected_Format_Instead_Of_Detecting()
    {
        using var file = TempJsonl.FromLines("""{"prompt": "e", "completion": "f"}""");

        var error = Assert.Throws<InvalidDataException>(() => ReadAll(file.Path, ConversationFormat.Messages));

        Assert.Equal($"{file.Path}:1: missing field \"messages\"", error.Message);
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}""", "invalid JSON")]
    [InlineData("""[1, 2]""", "expected a JSON object, got an array")]
    [InlineData("""{"text": "a"}""", "unknown layout")]
    [InlineData("""{"messages": []}""", "empty conversation")]
    [InlineData("""{"messages": {"role": "user"}}""", "\"messages\" must be an array")]
    [InlineData("""{"messages": ["hi"]}""", "messages[0] must be an object")]
    [InlineData("""{"messages": [{"role": "human", "content": "a"}]}""", "messages[0]: unknown role \"human\"")]
    [InlineData("""{"messages": [{"content": "a"}]}""", "messages[0]: missing field \"role\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}, {"role": "assistant"}]}""", "messages[1]: missing field \"content\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": null}]}""", "messages[1]: \"content\" must be a string, got null")]
    [InlineData("""{"messages": [{"role": "user", "content": 3}]}""", "messages[0]: \"content\" must be a string, got the number 3")]
    [InlineData("""{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}]}""", "no assistant turn")]
    [InlineData("""{"conversations": []}""", "empty conversation")]
    [InlineData("""{"conversations": [{"from": "Bot", "value": "a"}]}""", "conversations[0]: unknown speaker \"Bot\"")]
    [InlineData("""{"conversations": [{"from": "User"}]}""", "conversations[0]: missing field \"value\"")]
    [InlineData("""{"conversations": [{"from": "User", "value": "a"}, {"from": "Assistant", "value": "b", "label": "quality:9"}]}""", "SteerLM \"label\"")]
    [InlineData("""{"conversations": [{"from": "User", "value": "a"}, {"from": "Assistant", "value": "b"}], "mask": "Assistant"}""", "\"mask\" must be \"User\"")]
    [InlineData("""{"conversations": [{"from": "User", "value": "a"}, {"from": "Assistant", "value": "b"}], "type": "OTHER"}""", "\"type\" must be null")]
    [InlineData("""{"system": 5, "conversations": [{"from": "User", "value": "a"}]}""", "\"system\" must be a string")]
    [InlineData("""{"conversations": [{"from": "User", "value": "a"}]}""", "no assistant turn")]
    [InlineData("""{"prompt": "a"}""", "missing field \"completion\"")]
    [InlineData("""{"prompt": 1, "completion": "b"}""", "\"prompt\" must be a string or an array of messages")]
    [InlineData("""{"prompt": "a", "completion": [{"role": "robot", "content": "b"}]}""", "completion[0]: unknown role \"robot\"")]
    public void Read_Should_Throw_With_File_Line_And_Reason_On_Bad_Input(string badLine, string reason)
    {
        using var file = TempJsonl.FromLines(
            """{"prompt": "ok", "completion": "fine"}""",
            "",
            badLine);

        var error = Assert.Throws<InvalidDataException>(() => ReadAll(file.Path));

        Assert.StartsWith($"{file.Path}:3: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Should_Skip_Bad_Lines_And_Record_Line_And_Reason_When_Asked()
    {
        using var file = TempJsonl.FromLines(
            """{"prompt": "a", "completion": "b"}""",
            "not json",
            "",
            """{"messages": [{"role": "user", "content": "x"}]}""",
            """{"prompt": "c", "completion": "d"}""",
            """{"messages": []}""");
        var reader = ConversationReader.Open(file.Path, new ConversationReaderOptions(SkipBad: true));

        var conversations = reader.Read().ToList();

        Assert.Equal([1, 5], conversations.Select(c => c.Line));
        Assert.Equal([2, 4, 6], reader.Skipped.Select(b => b.Line));
        Assert.StartsWith("invalid JSON", reader.Skipped[0].Reason, StringComparison.Ordinal);
        Assert.Equal("no assistant turn", reader.Skipped[1].Reason);
        Assert.Equal("empty conversation", reader.Skipped[2].Reason);
        Assert.Equal($"{file.Path}:4: no assistant turn", reader.Skipped[1].ToString());
    }

    [Fact]
    public void Read_Should_Restart_And_Clear_Skipped_On_Each_Enumeration()
    {
        using var file = TempJsonl.FromLines("x", """{"prompt": "a", "completion": "b"}""");
        var reader = ConversationReader.Open(file.Path, new ConversationReaderOptions(SkipBad: true));

        Assert.Single(reader.Read());
        Assert.Single(reader.Read());
        Assert.Single(reader.Skipped);
    }

    [Fact]
    public void Read_Should_Treat_An_Overlong_Line_As_Bad_And_Continue_After_It()
    {
        var longLine = """{"prompt": "a", "completion": """ + "\"" + new string('z', 200) + "\"}";
        using var file = TempJsonl.FromLines(longLine, """{"prompt": "c", "completion": "d"}""");
        var options = new ConversationReaderOptions(MaxLineBytes: 100);

        var error = Assert.Throws<InvalidDataException>(() => ConversationReader.Open(file.Path, options).Read().ToList());
        var skipping = ConversationReader.Open(file.Path, options with { SkipBad = true });

        Assert.Equal($"{file.Path}:1: line longer than 100 bytes", error.Message);
        Assert.Equal(2, Assert.Single(skipping.Read()).Line);
        Assert.Equal(1, Assert.Single(skipping.Skipped).Line);
    }

    [Fact]
    public void Read_Should_Be_Lazy_So_The_First_Conversation_Of_An_Endless_Source_Arrives()
    {
        var reader = ConversationReader.FromText(() => new EndlessJsonl(), "endless");

        var first = reader.Read().Take(3).ToList();

        Assert.Equal([1, 2, 3], first.Select(c => c.Line));
        Assert.Equal("answer 3", first[2].Messages[1].Content);
    }

    [Fact]
    public void Read_Should_Not_Read_A_Large_File_Beyond_What_The_First_Conversation_Needs()
    {
        const int lines = 20_000;
        using var file = new TempJsonl(string.Concat(Enumerable.Range(0, lines).Select(i => $"{{\"prompt\": \"q{i}\", \"completion\": \"a{i}\"}}\n")));
        var length = new FileInfo(file.Path).Length;
        CountingStream? stream = null;
        var reader = ConversationReader.FromText(
            () => new StreamReader(stream = new CountingStream(File.OpenRead(file.Path))), file.Path);

        using var conversations = reader.Read().GetEnumerator();
        Assert.True(conversations.MoveNext());

        Assert.Equal("a0", conversations.Current.Messages[1].Content);
        Assert.True(stream!.BytesRead < length / 4, $"read {stream.BytesRead} of {length} bytes for the first line");
    }

    [Fact]
    public void Options_Validate_Should_Reject_A_Nonpositive_Line_Limit()
    {
        var error = Assert.Throws<ArgumentException>(() => ConversationReader.Open("x.jsonl", new ConversationReaderOptions(MaxLineBytes: 0)));

        Assert.Contains("MaxLineBytes", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Never ends: reading all of it would hang, so only a lazy reader can return.</summary>
    private sealed class EndlessJsonl : TextReader
    {
        private string _pending = "";
        private int _position;
        private int _line;

        public override int Read(char[] buffer, int index, int count)
        {
            if (_position == _pending.Length)
            {
                _line++;
                _pending = $"{{\"prompt\": \"question {_line}\", \"completion\": \"answer {_line}\"}}\n";
                _position = 0;
            }
            var n = Math.Min(count, _pending.Length - _position);
            _pending.CopyTo(_position, buffer, index, n);
            _position += n;
            return n;
        }
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
