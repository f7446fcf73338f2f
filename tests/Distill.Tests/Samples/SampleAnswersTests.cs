using Distill.Evaluation;
using Distill.Models;
using Distill.Samples;
using Distill.Text.Conversations;
using static TorchSharp.torch;

namespace Distill.Tests.Samples;

public sealed class SampleAnswersTests
{
    [Fact]
    public void Accuracy_Should_Equal_One_At_A_Time_Greedy_Scoring()
    {
        using var teacher = HfModelFolder.Load(SampleFiles.Teacher, CPU, ScalarType.Float32);
        teacher.eval();
        var chat = ChatTokenizer.Load(SampleFiles.Teacher);
        var questions = ConversationReader.Open(SampleFiles.Data("heldout.jsonl")).Read().Take(12).ToList();
        var stop = GenerationEval.StopIds(teacher.Config, chat);

        var batched = SampleAnswers.Accuracy(teacher, chat, questions, 128, stop);

        // GenerationEval decodes each question alone and scores its final answer the same way.
        var alone = GenerationEval.Run(teacher, chat, questions, 128, stop).FinalAnswerCorrect!.Value;
        Assert.Equal(alone, batched, 12);
        Assert.True(batched > 0);                                      // the teacher gets some right: the test can fail
    }
}
