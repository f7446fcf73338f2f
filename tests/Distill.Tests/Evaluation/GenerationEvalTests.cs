using System.Text.Json.Nodes;
using Distill.Evaluation;
using Distill.Generation;
using Distill.Tests.Teachers;
using Distill.Tests.Text.Conversations;
using Distill.Text;
using Distill.Text.Conversations;
using Xunit;

namespace Distill.Tests.Evaluation;

public sealed class GenerationEvalTests
{
    private const int MaxNewTokens = 5;

    private static string Line(params (string Role, string Content)[] messages) =>
        new JsonObject { ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]) }
            .ToJsonString();

    [Fact]
    public void Run_Should_Score_Exact_Match_Against_The_Last_Assistant_Message()
    {
        using var tiny = new TinyTeacher(conversations: 1);
        using var model = tiny.Load();
        var chat = tiny.Chat();
        var stop = GenerationEval.StopIds(model.Config, chat);
        // The reference of the first conversation is what greedy decoding produces for its prompt (Greedy itself is
        // checked against full recomputation elsewhere), so it must match; the second's cannot.
        var prompt = new List<ChatMessage> { new("user", "Hello"), new("assistant", "Pong"), new("user", "Ping") };
        var ids = chat.Encode(chat.Render(prompt, addGenerationPrompt: true)).Ids;
        var own = chat.Tokenizer.Decode(Greedy.Generate(model, ids, MaxNewTokens, stop).Tokens, skipSpecialTokens: true);
        var data = tiny.Sub("held-out.jsonl");
        File.WriteAllLines(data,
        [
            Line(("user", "Hello"), ("assistant", "Pong"), ("user", "Ping"), ("assistant", " " + own + "\n")),
            Line(("user", "Hello"), ("assistant", "so 6 * 7 = 42")),
        ]);

        var score = GenerationEval.Run(model, chat, ConversationReader.Open(data).Read(), MaxNewTokens, stop);

        Assert.Equal(2, score.Conversations);
        Assert.Equal(0.5, score.ExactMatch, 1e-12);
        Assert.Equal(1, score.WithFinalAnswer);
        Assert.NotNull(score.FinalAnswerContained);
    }

    [Fact]
    public void StopIds_Should_Include_The_Configs_Eos_And_The_End_Of_Turn_Token()
    {
        using var tiny = new TinyTeacher(conversations: 1);
        using var model = tiny.Load();

        var stop = GenerationEval.StopIds(model.Config, tiny.Chat());

        Assert.Contains(2, stop);
        Assert.Contains(TinyModelFolder.IdOf("<|im_end|>"), stop);
    }
}
