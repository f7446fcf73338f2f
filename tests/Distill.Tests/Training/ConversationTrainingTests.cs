using System.CommandLine;
using Distill.Cli;
using Distill.Models;
using Distill.Tests.Text.Conversations;
using Distill.Text.Conversations;
using Distill.Training;

namespace Distill.Tests.Training;

public sealed class ConversationTrainingTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TinyModelFolder _tokenizer = new();
    private readonly string _student;
    private readonly string _data;

    public ConversationTrainingTests()
    {
        // The tiny tokenizer's ids reach 409 (its special tokens), so the student's vocabulary is 416.
        _student = TrainingTestData.StudentFolder(_folder.Sub("student"), vocab: 416);
        foreach (var name in HfModelFolder.TokenizerFiles.Where(n => File.Exists(Path.Combine(_tokenizer.Path, n))))
            File.Copy(Path.Combine(_tokenizer.Path, name), Path.Combine(_student, name));
        _data = _folder.Sub("chat.jsonl");
        File.WriteAllLines(_data,
        [
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello Pong"}]}""",
            """{"messages": [{"role": "user", "content": "Ping"}, {"role": "assistant", "content": "Pong"}]}""",
            """{"prompt": "Po", "completion": "Hello"}""",
        ]);
    }

    public void Dispose()
    {
        _folder.Dispose();
        _tokenizer.Dispose();
    }

    [Fact]
    public void Conversations_Should_Be_Tokenized_With_The_Chat_Template_And_Masked_To_The_Assistant()
    {
        using var source = TrainingData.Open(_data, new DataOptions(ChatFormat: "chatml"), _student);
        var expected = ChatTokenizer.Load(_student, "chatml").BuildAll(ConversationReader.Open(_data).Read()).ToArray();
        Assert.Equal(expected.Length, source.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].InputIds, source.Example(i).InputIds);
            Assert.Equal(expected[i].LossMask, source.Example(i).LossMask);
        }
        Assert.IsType<InMemoryExampleSource>(source);
    }

    [Fact]
    public void Train_Command_Should_Run_Plain_Sft_On_Conversations_And_Print_Plain_Lines()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var outDir = _folder.Sub("out");
        var exit = new RootCommand { TrainCommand.Create() }.Parse(
            ["train", "--student", _student, "--data", _data, "--out", outDir, "--steps", "2", "--global-batch", "3",
             "--micro-batch", "1", "--lr", "1e-3", "--set", "chat_format=chatml"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.True(exit == 0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("step 1/2 loss ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("distill train: 2 steps", lines[^1], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outDir, Trainer.FinalFolder, "tokenizer.json")));
    }

    [Fact]
    public void Train_Command_Should_Print_One_Line_Errors_With_A_Non_Zero_Exit()
    {
        var error = new StringWriter();
        var exit = new RootCommand { TrainCommand.Create() }.Parse(
            ["train", "--student", _student, "--data", _data, "--out", _folder.Sub("bad"), "--micro-batch", "9", "--global-batch", "3"])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.Equal(1, exit);
        Assert.StartsWith("distill train: train config: trainer.micro_batch = 9", error.ToString(), StringComparison.Ordinal);
    }
}
