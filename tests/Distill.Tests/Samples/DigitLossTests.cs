using System.Text.Json.Nodes;
using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Samples;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Tests.Samples;

public sealed class DigitLossTests
{
    [Fact]
    public void Split_Should_Count_Every_Answer_Digit_And_Recombine_To_The_Validators_Held_Out_Loss()
    {
        string file = Path.Combine(Path.GetTempPath(), "digit-loss-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            var lines = File.ReadLines(SampleFiles.Data("heldout.jsonl")).Take(6).ToArray();
            File.WriteAllLines(file, lines);
            using var model = HfModelFolder.Load(SampleFiles.Teacher, CPU, ScalarType.Float32);
            model.eval();
            using var source = TrainingData.Open(file, new DataOptions(), SampleFiles.Teacher);
            var split = DigitLoss.Measure(model, source, ChatTokenizer.Load(SampleFiles.Teacher).Tokenizer);

            // The sample's tokenizer makes every digit a token of its own, so the digit targets are the answers' digits.
            long answerDigits = lines.Sum(l => JsonNode.Parse(l)!["messages"]!.AsArray()
                .Where(m => m!["role"]!.GetValue<string>() == "assistant").Sum(m => m!["content"]!.GetValue<string>().Count(char.IsAsciiDigit)));
            Assert.Equal(answerDigits, split.DigitTokens);
            // The independent path: the trainer's validation (chunked loss) over the same examples.
            var whole = Validator.Run(model, source, KdObjective.SftOnly, microBatch: 4, chunkSize: 64).Sft;
            double recombined = (split.Digits * split.DigitTokens + split.Other * split.OtherTokens) / (split.DigitTokens + split.OtherTokens);
            Assert.Equal(whole, recombined, 5);
            Assert.True(split.Digits > 0 && split.Other > 0);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
