using System.Runtime.CompilerServices;
using Distill.Text;
using Distill.Text.Conversations;
using Distill.Text.Templates;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text.Conversations;

public class ChatTokenizerTests
{
    private static readonly ChatMessage[] TwoTurns =
    [
        new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello!"), new("user", "2+2?"), new("assistant", "4"),
    ];

    private static Conversation Chat(params ChatMessage[] messages) => new(messages, "chat.jsonl", 3);

    /// <summary>The decoded text of each maximal run of supervised tokens.</summary>
    private static List<string> SupervisedRuns(HfTokenizer tokenizer, TokenizedExample example)
    {
        var runs = new List<string>();
        var run = new List<int>();
        for (var t = 0; t <= example.InputIds.Length; t++)
        {
            if (t < example.InputIds.Length && example.LossMask[t] == 1)
            {
                run.Add(example.InputIds[t]);
            }
            else if (run.Count > 0)
            {
                runs.Add(tokenizer.Decode(run));
                run.Clear();
            }
        }
        return runs;
    }

    private static string Fixture(string name, [CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "..", "Templates", "Fixtures", name));

    [Fact]
    public void Build_Should_Mask_ChatMl_Answers_Token_By_Token_With_A_Real_Tokenizer()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        var chat = ChatTokenizer.Load(folder.Path, "chatml");

        var example = chat.Build(Chat(TwoTurns));

        // Segments end at pre-token boundaries, so encoding them one by one gives the same tokens.
        (string Text, bool Supervised)[] segments =
        [
            ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", false),
            ("Hello!<|im_end|>", true),
            ("\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n", false),
            ("4<|im_end|>", true),
            ("\n", false),
        ];
        var expectedIds = segments.SelectMany(s => chat.Tokenizer.Encode(s.Text, addSpecialTokens: false).Ids).ToArray();
        var expectedMask = segments.SelectMany(s => chat.Tokenizer.Encode(s.Text, addSpecialTokens: false).Ids.Select(_ => (byte)(s.Supervised ? 1 : 0))).ToArray();
        Assert.Equal(expectedIds, example.InputIds);
        Assert.Equal(expectedMask, example.LossMask);
        Assert.Equal(["Hello!<|im_end|>", "4<|im_end|>"], SupervisedRuns(chat.Tokenizer, example));
        Assert.Contains(TinyModelFolder.IdOf("<|im_start|>"), example.InputIds);
        Assert.Equal(TinyModelFolder.IdOf("<|im_end|>"), example.InputIds[Array.LastIndexOf(example.LossMask, (byte)1)]);
    }

    [Fact]
    public void Build_Should_Not_Double_The_Bos_A_Llama3_Template_Writes_Itself()
    {
        using var folder = new TinyModelFolder(bos: "<|begin_of_text|>", eos: "<|eot_id|>", postProcessorAddsBos: true);
        var chat = ChatTokenizer.Load(folder.Path, "llama3");

        var example = chat.Build(Chat(new("user", "Hi"), new("assistant", "Hello")));

        Assert.Equal(TinyModelFolder.IdOf("<|begin_of_text|>"), example.InputIds[0]);
        Assert.Equal(TinyModelFolder.IdOf("<|start_header_id|>"), example.InputIds[1]);
        Assert.Equal(["Hello<|eot_id|>"], SupervisedRuns(chat.Tokenizer, example));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>",
            chat.Tokenizer.Decode(example.InputIds));
    }

    [Fact]
    public void Encode_Should_Add_The_Bos_When_The_Template_Does_Not_Write_It()
    {
        using var folder = new TinyModelFolder(bos: "<|begin_of_text|>", postProcessorAddsBos: true);
        var chat = ChatTokenizer.Load(folder.Path, "chatml");

        var example = chat.Build(Chat(new("user", "Hi"), new("assistant", "Hello")));

        Assert.Equal(TinyModelFolder.IdOf("<|begin_of_text|>"), example.InputIds[0]);
        Assert.Equal(0, example.LossMask[0]);
        Assert.Equal(["Hello<|im_end|>"], SupervisedRuns(chat.Tokenizer, example));
    }

    [Fact]
    public void Load_Should_Use_The_Folders_Template_And_Stop_Tokens_From_Generation_Config()
    {
        const string template =
            "{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n' + m['content'] + '<|stop|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n' }}{% endif %}";
        using var folder = new TinyModelFolder(template, generationConfig: $$"""{"eos_token_id": [{{TinyModelFolder.IdOf("<|stop|>")}}]}""");
        var chat = ChatTokenizer.Load(folder.Path);

        var example = chat.Build(Chat(new("user", "Hi"), new("assistant", "Pong"), new("user", "Again"), new("assistant", "Pong")));

        Assert.Contains("<|stop|>", chat.Options.Markers);
        Assert.Equal(["Pong<|stop|>", "Pong<|stop|>"], SupervisedRuns(chat.Tokenizer, example));
    }

    [Fact]
    public void Load_Should_Refuse_A_Folder_Without_A_Template_When_No_Format_Is_Given()
    {
        using var folder = new TinyModelFolder();

        var error = Assert.Throws<InvalidDataException>(() => ChatTokenizer.Load(folder.Path));

        Assert.Contains("no chat_template", error.Message, StringComparison.Ordinal);
        Assert.Contains("chatml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Should_Report_A_Template_That_Refuses_The_Conversation_As_Bad_Data()
    {
        using var folder = new TinyModelFolder(bos: "<s>", eos: "</s>");
        var chat = ChatTokenizer.Load(folder.Path, "llama2");
        Conversation[] conversations = [Chat(new("assistant", "first"), new("user", "then")), Chat(new("user", "Ping"), new("assistant", "Pong"))];
        var skipped = new List<BadLine>();

        var error = Assert.Throws<InvalidDataException>(() => chat.Build(conversations[0]));
        var examples = chat.BuildAll(conversations, skipped).ToList();

        Assert.Equal("chat.jsonl:3: chat template: Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
        Assert.Single(examples);
        Assert.Equal("chat template: Conversation roles must alternate user/assistant/user/assistant/...", Assert.Single(skipped).Reason);
        Assert.Equal([" Pong </s>"], SupervisedRuns(chat.Tokenizer, examples[0]));
    }

    [Fact]
    public void Build_Should_Mask_Qwen3_Answers_Whose_Earlier_Reasoning_The_Template_Drops()
    {
        using var folder = new TinyModelFolder(Fixture("qwen3.jinja"), eos: "<|im_end|>");
        var chat = ChatTokenizer.Load(folder.Path);
        ChatMessage[] messages =
        [
            new("user", "Q1"), new("assistant", "<think>\nold thought\n</think>\n\nA1"), new("user", "Q2"), new("assistant", "<think>new thought</think>A2"),
        ];

        var example = chat.Build(Chat(messages));

        // Jinja2's rendering of this conversation, from the template fixtures.
        Assert.Equal(
            "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\nnew thought\n</think>\n\nA2<|im_end|>\n",
            chat.Tokenizer.Decode(example.InputIds));
        Assert.Equal(["A1<|im_end|>", "<think>\nnew thought\n</think>\n\nA2<|im_end|>"], SupervisedRuns(chat.Tokenizer, example));
    }

    [Fact]
    public void Build_Should_Mask_Mistral_Answers_When_The_Template_Moves_The_System_Prompt()
    {
        using var folder = new TinyModelFolder(Fixture("mistral-v0.3-instruct.jinja"), bos: "<s>", eos: "</s>");
        var chat = ChatTokenizer.Load(folder.Path);
        ChatMessage[] messages = [new("system", "Be kind."), new("user", "Ping"), new("assistant", "Pong"), new("user", "Again"), new("assistant", " Pong again \n")];

        var example = chat.Build(Chat(messages));

        Assert.Equal("<s>[INST] Ping[/INST] Pong</s>[INST] Be kind.\n\nAgain[/INST] Pong again</s>", chat.Tokenizer.Decode(example.InputIds));
        Assert.Equal(1, example.InputIds.Count(id => id == TinyModelFolder.IdOf("<s>")));
        // The first answer is found by content; the space before it travels in the word token "ĠPong".
        Assert.Equal([" Pong</s>", " Pong again</s>"], SupervisedRuns(chat.Tokenizer, example));
    }

    [Theory]
    [InlineData("llama-3.1-instruct", "<|begin_of_text|>", "<|eot_id|>", "Pong<|eot_id|>", "Pong again<|eot_id|>")]
    [InlineData("qwen2.5-instruct", null, "<|im_end|>", "Pong<|im_end|>", " Pong again \n<|im_end|>")]
    [InlineData("smollm2-instruct", "<|im_start|>", "<|im_end|>", "Pong<|im_end|>", " Pong again \n<|im_end|>")]
    [InlineData("tinyllama-chat", "<s>", "</s>", "Pong</s>", " Pong again \n</s>")]
    [InlineData("llama-2-chat", "<s>", "</s>", " Pong </s>", " Pong again </s>")]
    public void Build_Should_Supervise_Exactly_The_Answers_Under_Real_Templates(string fixture, string? bos, string? eos, string first, string second)
    {
        using var folder = new TinyModelFolder(Fixture(fixture + ".jinja"), bos, eos, postProcessorAddsBos: bos is not null);
        var chat = ChatTokenizer.Load(folder.Path);
        ChatMessage[] messages = [new("user", "Ping"), new("assistant", "Pong"), new("user", "Again"), new("assistant", " Pong again \n")];

        var example = chat.Build(Chat(messages));

        using var expected = System.Text.Json.JsonDocument.Parse(Fixture(fixture + ".expected.json"));
        var rendered = expected.RootElement.GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "multi_turn_ends_assistant/agp=false").GetProperty("expected").GetString();
        // A BOS the template does not write itself is added once by the tokenizer (TinyLlama's case).
        var expectedText = bos is not null && !rendered!.StartsWith(bos, StringComparison.Ordinal) ? bos + rendered : rendered;
        Assert.Equal(expectedText, chat.Tokenizer.Decode(example.InputIds));
        Assert.Equal([first, second], SupervisedRuns(chat.Tokenizer, example));
    }

    [Fact]
    public void Build_Should_Supervise_Only_The_Last_Turn_And_Truncate_With_A_Real_Tokenizer()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        var all = ChatTokenizer.Load(folder.Path, "chatml").Build(Chat(TwoTurns));
        var last = ChatTokenizer.Load(folder.Path, "chatml", new ExampleOptions(Supervise.Last));
        var firstTarget = Array.IndexOf(all.LossMask, (byte)1);
        var tooShort = ChatTokenizer.Load(folder.Path, "chatml", new ExampleOptions(MaxSeqLen: firstTarget));
        var justOne = ChatTokenizer.Load(folder.Path, "chatml", new ExampleOptions(MaxSeqLen: firstTarget + 1));

        Assert.Equal(["4<|im_end|>"], SupervisedRuns(last.Tokenizer, last.Build(Chat(TwoTurns))));
        Assert.Throws<InvalidDataException>(() => tooShort.Build(Chat(TwoTurns)));
        var cut = justOne.Build(Chat(TwoTurns));
        Assert.True(cut.Truncated);
        Assert.Equal(all.InputIds[..(firstTarget + 1)], cut.InputIds);
        Assert.Equal(1, cut.SupervisedCount);
    }
}
