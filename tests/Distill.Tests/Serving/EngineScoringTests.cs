using Distill.Serving;
using Distill.Tests.Teachers;

namespace Distill.Tests.Serving;

public sealed class EngineScoringTests
{
    [Fact]
    public async Task Concurrent_Echo_Requests_Should_Share_One_Batch_And_Score_As_Each_Would_Alone()
    {
        using var tiny = new TinyTeacher(conversations: 1);
        // A long window so that every request below joins the first batch.
        using var engine = new ServingEngine(tiny.Load(), tiny.Chat(), "tiny", new EngineOptions(MaxBatchRows: 32, BatchWindowMs: 300), ownsModel: true);
        int[][] prompts = [[5, 17, 300, 42, 7, 9], [11, 2], [300, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [8, 30, 31]];
        var requests = prompts.Select((p, i) => new EngineRequest
        {
            Prompt = p, N = i == 0 ? 2 : 1, MaxTokens = 3, Temperature = 0, TopLogprobs = i == 3 ? null : 1 + i, ScorePrompt = true,
        }).ToList();

        var results = await Task.WhenAll(requests.Select(r => engine.SubmitAsync(r)));

        Assert.Equal((1L, 5L), engine.BatchStatistics);
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            var k = r.TopLogprobs ?? 0;
            var first = results[i].Choices[0];
            if (r.TopLogprobs is null)
            {
                Assert.Null(first.Logprobs);
                PlainScoring.AssertEqual(engine.Model, r.Prompt, 0, results[i].PromptLogprobs!);
                continue;
            }
            PlainScoring.AssertEqual(engine.Model, [.. r.Prompt, .. first.Tokens], k, [.. results[i].PromptLogprobs!, .. first.Logprobs!]);
            foreach (var choice in results[i].Choices.Skip(1))
                PlainScoring.AssertEqual(engine.Model, [.. r.Prompt, .. choice.Tokens], k, [.. choice.Logprobs!], from: r.Prompt.Length);
        }
    }
}
