using Distill.Evaluation;
using Distill.Generation;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Text.Tokenization;

namespace Distill.Training;

/// <summary>
/// What on-policy training is for, measured on held-out prompts: the student answers each greedily (the last assistant
/// turn is replaced by its own answer); the teacher scores those answers (reverse KL(student‖teacher) per answer token,
/// the divergence on-policy distillation drives down), and, when the student has a tokenizer, the decoded answer is
/// checked against the reference's final answer (<see cref="AnswerScoring"/>).
/// </summary>
public static class OnPolicyValidation
{
    private static readonly KdObjective ReverseKl = new(KdLossKind.BwdKl, KdWeight: 0, SftWeight: 1);

    /// <summary>The reverse KL on the student's own greedy answers, and their answer accuracy (null without a tokenizer or final answers).</summary>
    public static (double ReverseKl, double? AnswerAccuracy) Run(LlamaForCausalLM student, IExampleSource val, ITeacher teacher,
        IReadOnlyCollection<int> stopIds, int maxNewTokens, int microBatch, int chunkSize, HfTokenizer? tokenizer)
    {
        var split = Enumerable.Range(0, (int)val.Count).Select(i => OnPolicyBatch.Split(val, i, student.Config.MaxPositionEmbeddings)).ToArray();
        var answers = new List<TrainingExample>();
        long withFinal = 0, correct = 0;
        foreach (var chunk in split.Chunk(microBatch))
        {
            var greedy = SamplingOptions.Greedy(Math.Min(maxNewTokens, chunk.Min(r => r.Room)), stopIds);
            var results = Sampler.Sample(student, chunk.Select(r => r.Prompt).ToArray(), greedy, null);
            foreach (var (row, result) in chunk.Zip(results))
            {
                answers.Add(OnPolicyBatch.Example(row.Prompt, result.StopId is { } stop ? [.. result.Tokens, stop] : result.Tokens));
                if (tokenizer is null || AnswerScoring.FinalAnswer(tokenizer.Decode(row.Completion, skipSpecialTokens: true)) is not { } final) continue;
                withFinal++;
                if (AnswerScoring.SameFinalAnswer(tokenizer.Decode(result.Tokens, skipSpecialTokens: true), final)) correct++;
            }
        }
        using var own = new InMemoryExampleSource(val.Name + " (the student's greedy answers)", answers);
        var scored = Validator.Run(student, own, ReverseKl, microBatch, chunkSize, teacher);
        return (scored.Kd, withFinal > 0 ? (double)correct / withFinal : null);
    }
}
