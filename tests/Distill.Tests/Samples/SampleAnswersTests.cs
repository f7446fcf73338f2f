using Distill.Generation;
using Distill.Models;
using Distill.Samples;
using static TorchSharp.torch;

namespace Distill.Tests.Samples;

public sealed class SampleAnswersTests
{
    [Fact]
    public void Generate_Should_Give_Each_Prompt_What_Single_Greedy_Decoding_Gives()
    {
        random.manual_seed(7);
        using var model = new LlamaForCausalLM(SampleModels.Config(vocabSize: 37, hidden: 16, layers: 2, heads: 2, intermediate: 24), CPU, ScalarType.Float32);
        model.eval();
        var rng = new Random(3);
        var prompts = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 6).Select(_ => rng.Next(34)).ToArray()).ToList();
        // A stop id that some continuations produce, so both the stopped and the cut-off paths are compared.
        int[] stop = [Greedy.Generate(model, prompts[0], 3, []).Tokens[2]];

        var batched = SampleAnswers.Generate(model, prompts, maxNewTokens: 9, stop);

        for (int i = 0; i < prompts.Count; i++)
            Assert.Equal(Greedy.Generate(model, prompts[i], 9, stop).Tokens, batched[i]);
        Assert.Contains(batched, b => b.Count < 9);
    }

    [Fact]
    public void Generate_Should_Refuse_Prompts_Of_Different_Lengths()
    {
        random.manual_seed(7);
        using var model = new LlamaForCausalLM(SampleModels.Config(vocabSize: 37, hidden: 16, layers: 1, heads: 2, intermediate: 24), CPU, ScalarType.Float32);
        Assert.Throws<ArgumentException>(() => SampleAnswers.Generate(model, [[1, 2, 3], [1, 2]], 4, []));
    }
}
