using System.CommandLine;
using System.Text.Json;
using Distill.Cli;
using Distill.Tests.Text.Conversations;
using Distill.Text.Conversations;
using Distill.Text.Tokenization;

namespace Distill.Tests.Cli;

public class TokenizeCommandTests
{
    private const string Good = """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""";
    private const string AlsoGood = """{"prompt": "x", "completion": "y"}""";

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = new RootCommand { TokenizeCommand.Create() }.Parse(["tokenize", .. args])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Text_With_Json_Should_Print_The_Ids_With_Special_Tokens()
    {
        using var folder = new TinyModelFolder(bos: "<s>", postProcessorAddsBos: true);

        var (exit, output, _) = Run("--model", folder.Path, "--text", "Hello", "--json");

        Assert.Equal(0, exit);
        var ids = JsonDocument.Parse(output).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32());
        Assert.Equal([TinyModelFolder.IdOf("<s>"), .. HfTokenizer.Load(folder.Path).Encode("Hello", addSpecialTokens: false).Ids], ids);
    }

    [Fact]
    public void Data_With_Json_Should_Print_Ids_And_Mask_Per_Line_And_Report_Skipped_Lines()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        using var data = TempJsonl.FromLines(Good, "not json", AlsoGood);
        var chat = ChatTokenizer.Load(folder.Path, "chatml");

        var (exit, output, error) = Run("--model", folder.Path, "--data", data.Path, "--json", "--chat-format", "chatml", "--skip-bad");

        Assert.Equal(0, exit);
        var lines = Lines(output);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var expected = chat.Build(new Conversation([new("user", "Hi"), new("assistant", "Hello!")], data.Path, 1));
        Assert.Equal(expected.InputIds, first.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(expected.LossMask.Select(m => (int)m), first.RootElement.GetProperty("mask").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Contains("skipped 1 bad line(s)", error, StringComparison.Ordinal);
        Assert.Contains($"{data.Path}:2: invalid JSON", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_Should_Show_Supervised_Text_In_Double_Brackets_When_Not_On_A_Terminal()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        using var data = TempJsonl.FromLines(Good, AlsoGood);

        var (exit, output, _) = Run("--model", folder.Path, "--data", data.Path, "--chat-format", "chatml", "--limit", "1", "--supervise", "last");

        Assert.Equal(0, exit);
        Assert.Contains("<|im_start|>assistant\n[[Hello!<|im_end|>]]\n", output, StringComparison.Ordinal);
        Assert.Contains($"{TinyModelFolder.IdOf("<|im_end|>"),7}     1  \"<|im_end|>\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[[y", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_Should_Stop_With_File_And_Line_On_A_Bad_Line_Without_Skip_Bad()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        using var data = TempJsonl.FromLines(Good, """{"messages": []}""");

        var (exit, _, error) = Run("--model", folder.Path, "--data", data.Path, "--json", "--chat-format", "chatml");

        Assert.Equal(1, exit);
        Assert.Equal($"distill tokenize: {data.Path}:2: empty conversation", error.Trim());
    }

    [Fact]
    public void Tokenize_Should_Refuse_Both_Or_Neither_Of_Text_And_Data()
    {
        using var folder = new TinyModelFolder();

        var (exit, _, error) = Run("--model", folder.Path);

        Assert.NotEqual(0, exit);
        Assert.Contains("give exactly one of --text and --data", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_Should_Say_In_One_Line_When_The_Model_Folder_Has_No_Tokenizer()
    {
        var (exit, _, error) = Run("--model", Path.Combine(Path.GetTempPath(), "distill-no-such-model"), "--text", "hi");

        Assert.Equal(1, exit);
        Assert.StartsWith("distill tokenize: ", error, StringComparison.Ordinal);
        Assert.Contains("no tokenizer.json", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_Should_Be_Cut_To_The_Models_Context_By_Default_And_Counted()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        var config = Distill.Tests.Models.TinyModels.ConfigJson();
        config["max_position_embeddings"] = 40;
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), config.ToJsonString());
        var answer = string.Join(' ', Enumerable.Repeat("Pong", 50));
        using var data = TempJsonl.FromLines(Good, $$"""{"prompt": "x", "completion": "{{answer}}"}""");

        var (exit, output, error) = Run("--model", folder.Path, "--data", data.Path, "--json", "--chat-format", "chatml");

        Assert.True(exit == 0, error);
        var lines = Lines(output);
        Assert.Equal(2, lines.Length);
        Assert.True(JsonDocument.Parse(lines[0]).RootElement.GetProperty("ids").GetArrayLength() < 40);
        Assert.Equal(40, JsonDocument.Parse(lines[1]).RootElement.GetProperty("ids").GetArrayLength());
        Assert.Equal("distill tokenize: 1 example(s) were longer than --max-seq-len 40 tokens and were cut to it", error.Trim());
    }
}
