using Distill.Evaluation;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Tests.Training;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Evaluation;

public sealed class ValidatorTests : IDisposable
{
    private static readonly KdObjective CrossEntropyOnly = new(KdLossKind.FwdKl, KdWeight: 0, SftWeight: 1);

    private readonly TempFolder _folder = new();
    private readonly TrainingExample[] _examples = TrainingTestData.Examples(5, seed: 12);
    private readonly LlamaForCausalLM _teacher = TrainingTestData.BigramTeacher(21);
    private readonly LlamaForCausalLM _student = TrainingTestData.Model(13);
    private readonly CacheExampleSource _cache;

    public ValidatorTests() =>
        _cache = new CacheExampleSource(TrainingTestData.Cache(_folder.Sub("cache"), _examples, _teacher, topK: 4), topK: null);

    public void Dispose()
    {
        _cache.Dispose();
        _student.Dispose();
        _teacher.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Run_Should_Match_A_Naive_Per_Example_Computation_From_Full_Logits()
    {
        var result = Validator.Run(_student, _cache, CrossEntropyOnly, microBatch: 2, chunkSize: 3, new CachedTeacher(_cache));

        // Naive: each example alone, unpadded, full logits; target j is predicted by logits row j − 1.
        double ce = 0;
        long tokens = 0, correct = 0, agree = 0;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            foreach (var e in _examples)
            {
                var ids = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
                var s = _student.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float64).log_softmax(-1);
                var t = _teacher.Forward(new CausalLMInput { InputIds = ids }).Logits![0];
                for (var j = 1; j < e.InputIds.Length; j++)
                {
                    if (e.LossMask[j] == 0) continue;
                    ce -= s[j - 1, e.InputIds[j]].item<double>();
                    var predicted = s[j - 1].argmax().item<long>();
                    correct += predicted == e.InputIds[j] ? 1 : 0;
                    agree += predicted == t[j - 1].argmax().item<long>() ? 1 : 0;
                    tokens++;
                }
            }
        }
        Assert.Equal(tokens, result.Tokens);
        Assert.Equal(ce / tokens, result.Sft, 4);
        Assert.Equal(ce / tokens, result.Loss, 4);
        Assert.Equal((double)correct / tokens, result.Accuracy, 12);
        Assert.Equal((double)agree / tokens, result.Top1Agreement!.Value, 12);
        Assert.True(result.Kd > 0);                      // measured against the cache even with kd_weight 0
    }

    [Fact]
    public void Run_Should_Measure_Against_The_Teacher_It_Is_Given_And_None_Without()
    {
        var fromCache = Validator.Run(_student, _cache, CrossEntropyOnly, microBatch: 2, chunkSize: 3, new CachedTeacher(_cache));
        var fromItself = Validator.Run(_student, _cache, CrossEntropyOnly, microBatch: 2, chunkSize: 3, new ModelTeacher(_student));
        var none = Validator.Run(_student, _cache, CrossEntropyOnly, microBatch: 2, chunkSize: 3);

        // The student as its own teacher: no divergence and full agreement, whatever the cache holds.
        Assert.True(fromCache.Kd > 0);
        Assert.True(fromCache.Top1Agreement < 1);
        Assert.Equal(0, fromItself.Kd, 6);
        Assert.Equal(1.0, fromItself.Top1Agreement);
        Assert.Equal(fromCache.Sft, fromItself.Sft, 12);
        Assert.Equal(fromCache.Accuracy, fromItself.Accuracy);
        Assert.Null(none.Top1Agreement);
        Assert.Equal(0, none.Kd);
        Assert.Equal(fromCache.Sft, none.Sft, 12);
    }
}
