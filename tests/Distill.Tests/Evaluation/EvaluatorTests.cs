using Distill.Evaluation;
using Distill.LogitCache;
using Distill.Models;
using Distill.Tests.LogitCache;
using Distill.Tests.Models;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Evaluation;

public sealed class EvaluatorTests
{
    // Odd lengths and masks with gaps; padding in every micro-batch of 2.
    private static List<TrainingExample> Examples(int count = 5, int seed = 17)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var length = 3 + (i * 4) % 9;
            var ids = Enumerable.Range(0, length).Select(_ => rng.Next(TinyModels.Vocab)).ToArray();
            var mask = Enumerable.Range(0, length).Select(j => (byte)(j > 0 && (j + i) % 3 != 0 ? 1 : 0)).ToArray();
            return new TrainingExample(ids, mask);
        }).ToList();
    }

    [Fact]
    public void Run_Should_Match_Naive_Loss_Perplexity_And_Accuracy()
    {
        using var model = TinyModels.Create();
        var examples = Examples();
        var targets = NaiveMetrics.Targets(model, examples).ToList();
        var expectedLoss = targets.Average(t => -NaiveMetrics.LogSoftmax(t.Row)[t.Label]);
        var expectedAccuracy = targets.Average(t => NaiveMetrics.ArgMax(t.Row) == t.Label ? 1.0 : 0.0);

        var result = Evaluator.Run(model, examples, teacher: null, microBatch: 2, chunkSize: 3);

        Assert.Equal(examples.Count, result.Examples);
        Assert.Equal(targets.Count, result.Tokens);
        Assert.Equal(expectedLoss, result.Loss, 1e-5);
        Assert.Equal(Math.Exp(expectedLoss), result.Perplexity, 1e-4);
        Assert.Equal(expectedAccuracy, result.Accuracy, 1e-12);
        Assert.Null(result.Kl);
        Assert.Null(result.Top1Agreement);
    }

    [Fact]
    public void Accuracy_Should_Be_One_When_Labels_Are_The_Models_Own_Argmax()
    {
        using var model = TinyModels.Create();
        var ids = new List<int> { 5 };
        for (var t = 0; t < 6; t++)
            ids.Add(NaiveMetrics.ArgMax(NaiveMetrics.Logits(model, [.. ids])[t]));
        var example = new TrainingExample([.. ids], [0, 1, 1, 1, 1, 1, 1]);

        var result = Evaluator.Run(model, [example]);

        Assert.Equal(1.0, result.Accuracy);
    }

    [Fact]
    public void Run_With_Teacher_Should_Match_Naive_Full_Vocabulary_Kl_And_Agreement()
    {
        using var student = TinyModels.Create();
        using var teacher = TinyModels.Create(TinyModels.ConfigJson(), seed: 29);
        var examples = Examples(7);
        var s = NaiveMetrics.Targets(student, examples).ToList();
        var t = NaiveMetrics.Targets(teacher, examples).ToList();
        var kl = s.Zip(t).Average(p => NaiveMetrics.Kl(NaiveMetrics.LogSoftmax(p.Second.Row), NaiveMetrics.LogSoftmax(p.First.Row)));
        var agreement = s.Zip(t).Average(p => NaiveMetrics.ArgMax(p.First.Row) == NaiveMetrics.ArgMax(p.Second.Row) ? 1.0 : 0.0);

        var result = Evaluator.Run(student, examples, teacher, microBatch: 3, chunkSize: 5);

        Assert.Equal(kl, result.Kl!.Value, 1e-5);
        Assert.Equal(agreement, result.Top1Agreement!.Value, 1e-12);
        Assert.Equal("full", result.KlSupport);
        Assert.Equal(s.Average(x => -NaiveMetrics.LogSoftmax(x.Row)[x.Label]), result.Loss, 1e-5);
    }

    [Fact]
    public void Run_With_The_Model_As_Its_Own_Teacher_Should_Give_Zero_Kl_And_Full_Agreement()
    {
        using var model = TinyModels.Create();

        var result = Evaluator.Run(model, Examples(3), model);

        Assert.Equal(0.0, result.Kl!.Value, 1e-6);
        Assert.Equal(1.0, result.Top1Agreement);
    }

    [Fact]
    public void Run_With_Cache_Should_Match_Naive_TopK_Kl_And_Agreement()
    {
        using var temp = new TempDirectory();
        const int count = 5, topK = 3;
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(count, topK), new LogitCacheWriterOptions(ExamplesPerShard: 2));
        var cached = Enumerable.Range(0, count).Select(i => CacheTestData.Example(i, topK)).ToList();
        var examples = cached.Select(c => new TrainingExample(c.InputIds.ToArray(), c.LossMask.ToArray())).ToList();
        using var model = TinyModels.Create();
        double kl = 0, agree = 0;
        var n = 0;
        foreach (var (e, c) in examples.Zip(cached))
        {
            var logits = NaiveMetrics.Logits(model, e.InputIds);
            var row = 0;
            for (var j = 1; j < e.InputIds.Length; j++)
            {
                if (e.LossMask[j] == 0) continue;
                var ids = c.TopKIds.AsSpan(row * topK, topK).ToArray();
                var logP = NaiveMetrics.LogSoftmax(c.TopKLogits.AsSpan(row * topK, topK).ToArray().Select(v => (double)v).ToArray());
                var logQ = NaiveMetrics.LogSoftmax(ids.Select(id => logits[j - 1][id]).ToArray());
                kl += NaiveMetrics.Kl(logP, logQ);
                agree += NaiveMetrics.ArgMax(logits[j - 1]) == ids[0] ? 1 : 0;
                row++;
                n++;
            }
        }
        using var cache = new CacheExampleSource(temp.Path, null);

        var result = Evaluator.Run(model, examples, cache, microBatch: 2, chunkSize: 4);

        Assert.Equal(n, result.Tokens);
        Assert.Equal(kl / n, result.Kl!.Value, 1e-5);
        Assert.Equal(agree / n, result.Top1Agreement!.Value, 1e-12);
        Assert.Equal("top-3", result.KlSupport);
    }

    [Fact]
    public void CheckSameExamples_Should_Name_The_First_Example_With_Other_Ids()
    {
        var examples = Examples(4);
        var changed = examples.Select(e => e with { InputIds = e.InputIds.ToArray() }).ToList();
        changed[2].InputIds[1] = (changed[2].InputIds[1] + 1) % TinyModels.Vocab;
        using var cache = new InMemoryExampleSource("cache-dir", changed);

        var error = Assert.Throws<InvalidDataException>(() => Evaluator.CheckSameExamples(examples, cache));

        Assert.Contains("cache-dir", error.Message, StringComparison.Ordinal);
        Assert.Contains("example 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckSameExamples_Should_Throw_When_Counts_Differ()
    {
        var examples = Examples(4);
        using var cache = new InMemoryExampleSource("cache-dir", examples.Take(3).ToList());

        var error = Assert.Throws<InvalidDataException>(() => Evaluator.CheckSameExamples(examples, cache));

        Assert.Contains("3 examples", error.Message, StringComparison.Ordinal);
    }
}
