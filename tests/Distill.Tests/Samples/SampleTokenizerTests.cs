using System.Text.Json;
using Distill.Samples;
using Distill.Text;
using Distill.Text.Templates;
using Distill.Text.Tokenization;

namespace Distill.Tests.Samples;

public sealed class SampleTokenizerTests
{
    [Fact]
    public void Committed_Tokenizer_Should_Load_With_ChatML_Specials_Past_The_Trained_Vocabulary()
    {
        var tokenizer = HfTokenizer.Load(SampleFiles.Teacher);
        int trained = TrainedVocabulary(Path.Combine(SampleFiles.Teacher, "tokenizer.json"));
        Assert.Equal(trained, tokenizer.TokenToId("<|endoftext|>"));
        Assert.Equal(trained + 1, tokenizer.BosTokenId);
        Assert.Equal(trained + 2, tokenizer.EosTokenId);
        Assert.Equal(trained, tokenizer.PadTokenId);
        Assert.Equal("<|im_start|>", tokenizer.BosToken);
        Assert.Equal("<|im_end|>", tokenizer.EosToken);
        Assert.Equal(ChatTemplate.BuiltIn("chatml").Source, tokenizer.ChatTemplate);
    }

    [Fact]
    public void Committed_Tokenizer_Should_Round_Trip_Every_Rendered_Sample_Conversation()
    {
        var tokenizer = HfTokenizer.Load(SampleFiles.Teacher);
        var template = ChatTemplate.BuiltIn("chatml");
        int imEnd = tokenizer.EosTokenId!.Value;
        foreach (string line in File.ReadLines(SampleFiles.Data("train.jsonl")).Concat(File.ReadLines(SampleFiles.Data("heldout.jsonl"))))
        {
            string text = template.Render(Messages(line), addGenerationPrompt: false);
            var ids = tokenizer.Encode(text).Ids;
            Assert.Equal(text, tokenizer.Decode(ids));
            Assert.Equal(2, ids.Count(id => id == imEnd));
            Assert.True(ids.Length < text.Length / 2, $"{ids.Length} tokens for {text.Length} characters: the merges do not compress");
        }
    }

    [Fact]
    public void Write_Should_Reproduce_The_Committed_Tokenizer_From_The_Generated_Sets()
    {
        string folder = Path.Combine(Path.GetTempPath(), "distill-sample-tok-" + Guid.NewGuid().ToString("N"));
        try
        {
            int vocab = SampleTokenizer.Write(folder, SampleTokenizer.TrainingLines(SampleGenerator.Generate()));
            foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
                Assert.Equal(File.ReadAllText(Path.Combine(SampleFiles.Teacher, name)), File.ReadAllText(Path.Combine(folder, name)));
            Assert.Equal(TrainedVocabulary(Path.Combine(folder, "tokenizer.json")) + 3, vocab);
            Assert.Equal(vocab, SampleModels.VocabSize(folder));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Committed_Tokenizer_Should_Give_Every_Digit_Its_Own_Token()
    {
        var tokenizer = HfTokenizer.Load(SampleFiles.Teacher);
        var digits = Enumerable.Range(0, 10).Select(d => tokenizer.Encode(d.ToString(System.Globalization.CultureInfo.InvariantCulture), addSpecialTokens: false).Ids.Single()).ToArray();
        Assert.Equal(10, digits.Distinct().Count());
        foreach (string text in new[] { "What is 472 + 389?", "1638", " 905 ", "Ones: 2 + 9 = 11, write 1, carry 1." })
        {
            var ids = tokenizer.Encode(text, addSpecialTokens: false).Ids;
            int digitTokens = ids.Count(digits.Contains);
            Assert.Equal(text.Count(char.IsAsciiDigit), digitTokens);
        }
    }

    private static int TrainedVocabulary(string tokenizerJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        return doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count();
    }

    private static List<ChatMessage> Messages(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return [.. doc.RootElement.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))];
    }
}
