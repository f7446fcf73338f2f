using Distill.Text;
using Distill.Text.Conversations;

namespace Distill.Tests.Text.Conversations;

public class ExampleBuilderTests
{
    private static readonly FakeTokenizer ChatMlTokens = new("<|im_start|>", "<|im_end|>");

    private static readonly ChatMessage[] TwoTurns =
    [
        new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello!"), new("user", "2+2?"), new("assistant", "4"),
    ];

    private static readonly (string, bool)[] TwoTurnsChatMl =
    [
        ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", false),
        ("Hello!<|im_end|>", true),
        ("\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n", false),
        ("4<|im_end|>", true),
        ("\n", false),
    ];

    private static Conversation Chat(params ChatMessage[] messages) => new(messages, "chat.jsonl", 7);

    private static ExampleBuilder ChatMlBuilder(ExampleOptions? options = null) =>
        new(FakeTemplates.ChatMl, ChatMlTokens.Encode, (options ?? new()) with { EndOfTurnMarkers = ["<|im_end|>"] });

    private static void AssertExample((string Text, int[] Ids, byte[] Mask) expected, string rendered, TokenizedExample actual)
    {
        Assert.Equal(expected.Text, rendered);
        Assert.Equal(expected.Ids, actual.InputIds);
        Assert.Equal(expected.Mask, actual.LossMask);
    }

    [Fact]
    public void Build_Should_Supervise_Every_ChatMl_Assistant_Turn_And_Its_End_Token_Only()
    {
        var example = ChatMlBuilder().Build(Chat(TwoTurns));

        AssertExample(ChatMlTokens.Expect(TwoTurnsChatMl), FakeTemplates.ChatMl(TwoTurns, false), example);
        Assert.Equal("chat.jsonl", example.SourceFile);
        Assert.Equal(7, example.Line);
        Assert.False(example.Truncated);
        Assert.Equal("Hello!".Length + 1 + "4".Length + 1, example.SupervisedCount);
    }

    [Fact]
    public void Build_Should_Supervise_Llama3_Answers_With_Eot_But_Not_Headers()
    {
        var tokens = new FakeTokenizer("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>");
        ChatMessage[] messages = [new("user", " Hi "), new("assistant", "Hello"), new("user", "Bye"), new("assistant", "Ciao")];
        var builder = new ExampleBuilder(FakeTemplates.Llama3, tokens.Encode, new ExampleOptions(EndOfTurnMarkers: ["<|eot_id|>"]));

        var example = builder.Build(Chat(messages));

        AssertExample(tokens.Expect(
            ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", false),
            ("Hello<|eot_id|>", true),
            ("<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", false),
            ("Ciao<|eot_id|>", true)), FakeTemplates.Llama3(messages, false), example);
    }

    [Fact]
    public void Build_Should_Supervise_Only_The_Final_Assistant_Turn_With_Supervise_Last()
    {
        var example = ChatMlBuilder(new ExampleOptions(Supervise.Last)).Build(Chat(TwoTurns));

        var expected = TwoTurnsChatMl.Select((s, i) => i == 1 ? (s.Item1, false) : s).ToArray();
        AssertExample(ChatMlTokens.Expect(expected), FakeTemplates.ChatMl(TwoTurns, false), example);
    }

    [Fact]
    public void Build_Should_Supervise_An_Assistant_Turn_Followed_By_A_User_Turn()
    {
        ChatMessage[] messages = [new("user", "a"), new("assistant", "b"), new("user", "c")];

        var example = ChatMlBuilder().Build(Chat(messages));

        AssertExample(ChatMlTokens.Expect(
            ("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n", false),
            ("b<|im_end|>", true),
            ("\n<|im_start|>user\nc<|im_end|>\n", false)), FakeTemplates.ChatMl(messages, false), example);
    }

    [Fact]
    public void Build_Should_Supervise_Trailing_Whitespace_When_No_End_Marker_Precedes_It()
    {
        var tokens = new FakeTokenizer();
        ChatMessage[] messages = [new("user", "x"), new("assistant", "yz"), new("user", "w"), new("assistant", "v")];

        var example = new ExampleBuilder(FakeTemplates.Plain, tokens.Encode).Build(Chat(messages));

        AssertExample(tokens.Expect(
            ("User: x\nAssistant: ", false), ("yz\n", true), ("User: w\nAssistant: ", false), ("v\n", true)),
            FakeTemplates.Plain(messages, false), example);
    }

    [Fact]
    public void Build_Should_Locate_Earlier_Turns_When_The_Template_Drops_Their_Reasoning()
    {
        ChatMessage[] messages =
        [
            new("user", "Q1"), new("assistant", "<think>\nhmm\n</think>\n\nA1"), new("user", "Q2"), new("assistant", "<think>\nok\n</think>\n\nA2"),
        ];
        var builder = new ExampleBuilder(FakeTemplates.Reasoning, ChatMlTokens.Encode, new ExampleOptions(EndOfTurnMarkers: ["<|im_end|>"]));

        var example = builder.Build(Chat(messages));

        AssertExample(ChatMlTokens.Expect(
            ("<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n", false),
            ("A1<|im_end|>", true),
            ("\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n", false),
            ("<think>\nok\n</think>\n\nA2<|im_end|>", true),
            ("\n", false)), FakeTemplates.Reasoning(messages, false), example);
    }

    [Fact]
    public void Build_Should_Locate_Earlier_Turns_When_The_Template_Moves_The_System_Prompt()
    {
        var tokens = new FakeTokenizer("<s>", "</s>");
        ChatMessage[] messages = [new("system", "SYS"), new("user", "U1"), new("assistant", "A1"), new("user", "U2"), new("assistant", "A2")];
        var builder = new ExampleBuilder(FakeTemplates.Mistral, tokens.Encode, new ExampleOptions(EndOfTurnMarkers: ["</s>"]));

        var example = builder.Build(Chat(messages));

        // The first answer is found by content (so its leading space is layout); the last by prefixes.
        AssertExample(tokens.Expect(
            ("<s>[INST] U1 [/INST] ", false), ("A1</s>", true), ("[INST] SYS\n\nU2 [/INST]", false), (" A2</s>", true)),
            FakeTemplates.Mistral(messages, false), example);
    }

    [Fact]
    public void Build_Should_Refuse_A_Conversation_Whose_Answer_Cannot_Be_Located()
    {
        var builder = new ExampleBuilder(FakeTemplates.Shouting, ChatMlTokens.Encode);

        var error = Assert.Throws<InvalidDataException>(() =>
            builder.Build(Chat(new("user", "hi"), new("assistant", "hello"), new("user", "more"), new("assistant", "sure"))));

        Assert.StartsWith("chat.jsonl:7: cannot locate assistant turn 1 (\"hello\")", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Should_Cut_At_MaxSeqLen_And_Keep_The_Mask_Aligned()
    {
        var full = ChatMlTokens.Expect(TwoTurnsChatMl);
        var cut = ChatMlTokens.Expect(TwoTurnsChatMl[..3]).Ids.Length + 1;

        var example = ChatMlBuilder(new ExampleOptions(MaxSeqLen: cut)).Build(Chat(TwoTurns));

        Assert.True(example.Truncated);
        Assert.Equal(full.Ids[..cut], example.InputIds);
        Assert.Equal(full.Mask[..cut], example.LossMask);
        Assert.Equal(1, example.LossMask[^1]);
    }

    [Fact]
    public void Build_Should_Refuse_An_Example_Whose_Truncation_Leaves_No_Supervised_Token()
    {
        var firstTarget = ChatMlTokens.Expect(TwoTurnsChatMl[..1]).Ids.Length;
        var total = ChatMlTokens.Expect(TwoTurnsChatMl).Ids.Length;

        var error = Assert.Throws<InvalidDataException>(() =>
            ChatMlBuilder(new ExampleOptions(MaxSeqLen: firstTarget)).Build(Chat(TwoTurns)));

        Assert.Equal(
            $"chat.jsonl:7: no supervised token left after truncation to {firstTarget} tokens (the first is token {firstTarget} of {total})",
            error.Message);
    }

    [Fact]
    public void BuildAll_Should_Record_Unusable_Conversations_When_Skipping()
    {
        var shortLimit = ChatMlTokens.Expect(TwoTurnsChatMl[..1]).Ids.Length;
        var builder = ChatMlBuilder(new ExampleOptions(MaxSeqLen: shortLimit));
        Conversation[] conversations = [Chat(TwoTurns), new([new("user", "a"), new("assistant", "b")], "chat.jsonl", 9)];
        var skipped = new List<BadLine>();

        var examples = builder.BuildAll(conversations, skipped).ToList();

        Assert.Equal(9, Assert.Single(examples).Line);
        var bad = Assert.Single(skipped);
        Assert.Equal(7, bad.Line);
        Assert.StartsWith("no supervised token left after truncation", bad.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => builder.BuildAll(conversations).ToList());
    }

    [Fact]
    public void Build_Should_Refuse_A_Conversation_With_Only_Empty_Answers()
    {
        var bare = new ExampleBuilder((messages, _) => string.Concat(messages.Select(m => m.Content)), new FakeTokenizer().Encode);

        var error = Assert.Throws<InvalidDataException>(() => bare.Build(Chat(new("user", "x"), new("assistant", ""))));

        Assert.Equal("chat.jsonl:7: no supervised token: the assistant turns are empty", error.Message);
    }

    [Fact]
    public void Build_Should_Refuse_A_Conversation_Longer_Than_MaxMessages()
    {
        var builder = ChatMlBuilder(new ExampleOptions(MaxMessages: 4));

        var error = Assert.Throws<InvalidDataException>(() => builder.Build(Chat(TwoTurns)));

        Assert.Equal("chat.jsonl:7: too many messages (5, at most 4)", error.Message);
    }

    [Fact]
    public void Build_Should_Not_Supervise_A_Bos_Token_Added_By_The_Tokenizer()
    {
        var tokens = new FakeTokenizer("<|im_start|>", "<|im_end|>") { AddedBos = 1 };
        var builder = new ExampleBuilder(FakeTemplates.ChatMl, tokens.Encode, new ExampleOptions(EndOfTurnMarkers: ["<|im_end|>"]));

        var example = builder.Build(Chat(new("user", "a"), new("assistant", "b")));

        var rest = ChatMlTokens.Expect(("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n", false), ("b<|im_end|>", true), ("\n", false));
        Assert.Equal([1, .. rest.Ids], example.InputIds);
        Assert.Equal([0, .. rest.Mask], example.LossMask);
    }

    [Fact]
    public void Inspect_Should_Split_The_Text_Into_Supervised_And_Context_Runs()
    {
        var inspected = ChatMlBuilder().Inspect(Chat(TwoTurns));

        Assert.Equal(TwoTurnsChatMl, inspected.Segments());
        Assert.Equal(inspected.Example.InputIds.Length, inspected.Offsets.Length);
    }

    [Fact]
    public void Inspect_Should_Show_Tokens_Cut_Off_By_Truncation_As_Context()
    {
        var cut = ChatMlTokens.Expect(TwoTurnsChatMl[..3]).Ids.Length + 1;

        var segments = ChatMlBuilder(new ExampleOptions(MaxSeqLen: cut)).Inspect(Chat(TwoTurns)).Segments();

        Assert.Equal([TwoTurnsChatMl[0], TwoTurnsChatMl[1], TwoTurnsChatMl[2], ("4", true), ("<|im_end|>\n", false)], segments);
    }

    [Fact]
    public void Mask_Should_Mark_Only_Tokens_Wholly_Inside_A_Span_And_Never_Token_Zero()
    {
        const string text = "abcdefghijkl";
        (int, int)[] offsets = [(0, 1), (1, 3), (3, 5), (5, 8), (8, 8), (8, 9), (9, 10), (10, 12), (12, 12)];
        List<(int, int)> spans = [(0, 1), (2, 6), (8, 10)];

        var mask = ExampleBuilder.Mask(text, offsets, spans);

        // (0,1) is inside but is token 0; (1,3) and (5,8) straddle; empty (8,8) and (12,12) are added tokens.
        Assert.Equal([0, 0, 1, 0, 0, 1, 1, 0, 0], mask);
    }

    [Fact]
    public void Mask_Should_Mark_A_Word_Token_Whose_Only_Part_Before_The_Span_Is_Its_Leading_Space()
    {
        const string text = "Q:\n  A b";
        (int, int)[] offsets = [(0, 1), (1, 2), (2, 3), (3, 6), (6, 8)];
        List<(int, int)> spans = [(5, 8)];

        var mask = ExampleBuilder.Mask(text, offsets, spans);

        // "  A" starts before the span with spaces only; "\n" lies wholly before it.
        Assert.Equal([0, 0, 0, 1, 1], mask);
    }

    [Fact]
    public void Options_Validate_Should_Reject_A_MaxSeqLen_Below_Two()
    {
        var error = Assert.Throws<ArgumentException>(() => ChatMlBuilder(new ExampleOptions(MaxSeqLen: 1)));

        Assert.Contains("MaxSeqLen", error.Message, StringComparison.Ordinal);
    }
}
