using Distill.Losses;
using Distill.Teachers;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

public class GradientAccumulatorTests
{
    [Fact]
    public void Accumulated_Micro_Batches_Should_Give_The_Gradient_Of_One_Big_Batch()
    {
        using var folder = new TempFolder();
        var examples = TrainingTestData.Examples(6, seed: 5);
        using (var teacher = TrainingTestData.Model(99, initRange: 0.3))
            TrainingTestData.Cache(folder.Sub("cache"), examples, teacher, topK: 5);
        using var source = new CacheExampleSource(folder.Sub("cache"), topK: 5);
        var objective = new KdObjective(KdLossKind.FwdKl, SftWeight: 0.4);
        long[] indices = [4, 0, 5, 2, 3, 1];

        var (big, bigLoss) = Gradients(source, indices, 6, objective);
        foreach (var micro in new[] { 1, 2, 3 })
        {
            var (accumulated, loss) = Gradients(source, indices, micro, objective);
            Assert.Equal(bigLoss, loss, 6);
            for (var i = 0; i < big.Length; i++)
                for (var k = 0; k < big[i].Length; k++)
                    Assert.True(Math.Abs(big[i][k] - accumulated[i][k]) < 1e-6, $"micro {micro}: parameter {i}[{k}]: {big[i][k]} vs {accumulated[i][k]}");
        }
    }

    private static (float[][] Grads, double Loss) Gradients(CacheExampleSource source, long[] indices, int micro, KdObjective objective)
    {
        using var model = TrainingTestData.Model(11);
        var (loss, _, _, _) = GradientAccumulator.Accumulate(model, source, indices, micro, objective, chunkSize: 5, new CachedTeacher(source));
        return (model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray(), loss);
    }
}
