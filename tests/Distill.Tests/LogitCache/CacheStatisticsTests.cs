using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

public sealed class CacheStatisticsTests
{
    [Fact]
    public void Statistics_Should_Match_Hand_Derived_Values()
    {
        // V = 10, K = 2. Row 0: L = ln 2, logits [0, −ln 2] → p = [1/2, 1/4], mass 3/4,
        //   H_low = ½ln2 + ¼·2ln2 + (tail ¼)·2ln2 = 1.5 ln2, H_high = H_low + ¼·ln 8 = 2.25 ln2.
        // Row 1: L = 0, logits [0, −100] → p ≈ [1, 0], mass 1, both entropies 0.
        var ln2 = MathF.Log(2f);
        var example = new CacheExample([4, 5, 6], [0, 1, 1], 2, [3, 7, 1, 2], [0f, -ln2, 0f, -100f], [ln2, 0f]);
        using var temp = new TempDirectory();
        var settings = CacheManifest.Create(new TeacherFingerprint("c", "w", 10), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "", new DataSource("d", new string('b', 64)), 2, "f32", 8, 1);
        var writer = LogitCacheWriter.Open(temp.Path, settings);
        writer.Add(example);
        writer.Complete();

        using var reader = LogitCacheReader.Open(temp.Path);
        var stats = reader.Statistics();
        var bytes = new FileInfo(Path.Combine(temp.Path, "shard-000000000-000000001.safetensors")).Length;
        Assert.Equal(1, stats.Examples);
        Assert.Equal(3, stats.Tokens);
        Assert.Equal(2, stats.SupervisedRows);
        Assert.Equal(2, stats.TopK);
        Assert.Equal("f32", stats.LogitDType);
        Assert.Equal(1, stats.Shards);
        Assert.Equal(bytes, stats.TotalBytes);
        Assert.Equal(bytes / 2.0, stats.BytesPerSupervisedToken);
        Assert.Equal(0.875, stats.TopKMassMean, 1e-6);
        Assert.Equal(0.75, stats.TopKMassP5, 2e-6);
        Assert.Equal(0.75 * Math.Log(2), stats.EntropyLowerBoundMean, 1e-6);
        Assert.Equal(1.125 * Math.Log(2), stats.EntropyUpperBoundMean, 1e-6);
    }

    [Fact]
    public void Statistics_Of_An_Empty_Cache_Should_Be_Zero()
    {
        using var temp = new TempDirectory();
        LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(0)).Complete();
        using var reader = LogitCacheReader.Open(temp.Path);
        var stats = reader.Statistics();
        Assert.Equal(0, stats.SupervisedRows);
        Assert.Equal(0.0, stats.BytesPerSupervisedToken);
        Assert.Equal(0.0, stats.TopKMassMean);
    }
}
