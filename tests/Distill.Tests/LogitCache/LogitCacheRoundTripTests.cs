using Distill.LogitCache;
using TorchSharp;

namespace Distill.Tests.LogitCache;

public sealed class LogitCacheRoundTripTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    [InlineData("f16")]
    public void Read_Should_Return_Written_Examples_Bit_Exactly(string dtype)
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(7, 5, dtype), new LogitCacheWriterOptions(ExamplesPerShard: 3));

        using var reader = LogitCacheReader.Open(temp.Path);
        Assert.Equal(7, reader.ExampleCount);
        for (var i = 0; i < 7; i++)
        {
            var expected = CacheTestData.Example(i, 5);
            var view = reader.Example(i);
            Assert.Equal(expected.InputIds, view.InputIds.ToArray());
            Assert.Equal(expected.LossMask, view.LossMask.ToArray());
            Assert.Equal(expected.TargetPositions().ToArray(), view.TargetPositions());
            Assert.Equal(expected.LogSumExp, view.LogSumExp.ToArray());
            var logits = new float[5];
            for (var r = 0; r < expected.Rows; r++)
            {
                Assert.Equal(expected.TopKIds.AsSpan(r * 5, 5).ToArray(), view.RowIds(r).ToArray());
                view.RowLogits(r, logits);
                var want = expected.TopKLogits.AsSpan(r * 5, 5).ToArray().Select(v => CacheTestData.Round(dtype, v));
                Assert.Equal(want.Select(BitConverter.SingleToInt32Bits), logits.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Fact]
    public void Random_Access_Should_Not_Depend_On_Order()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(11), new LogitCacheWriterOptions(ExamplesPerShard: 4));
        using var reader = LogitCacheReader.Open(temp.Path);
        var forward = Enumerable.Range(0, 11).ToDictionary(i => i, i => reader.Example(i).ToExample());
        foreach (var i in new[] { 10, 0, 7, 3, 4, 8, 1, 9, 2, 6, 5, 10, 0 })
        {
            var again = reader.Example(i).ToExample();
            Assert.Equal(forward[i].InputIds, again.InputIds);
            Assert.Equal(forward[i].TopKIds, again.TopKIds);
            Assert.Equal(forward[i].TopKLogits, again.TopKLogits);
        }
    }

    [Fact]
    public void Narrowed_Views_Should_Expose_The_First_K_Columns()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(5, 7), new LogitCacheWriterOptions(ExamplesPerShard: 5));
        using var reader = LogitCacheReader.Open(temp.Path);
        var expected = CacheTestData.Example(2, 7);
        var view = reader.Example(2).Narrow(3);
        var logits = new float[3];
        Assert.Equal(3, view.Width);
        for (var r = 0; r < expected.Rows; r++)
        {
            Assert.Equal(expected.TopKIds.Skip(r * 7).Take(3), view.RowIds(r).ToArray());
            view.RowLogits(r, logits);
            Assert.Equal(expected.TopKLogits.Skip(r * 7).Take(3), logits);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Example(2, 8));
    }

    [Fact]
    public void LoadTopK_Should_Concatenate_Rows_Of_The_Requested_Examples()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(9, 5, "bf16"), new LogitCacheWriterOptions(ExamplesPerShard: 4));
        using var reader = LogitCacheReader.Open(temp.Path);
        long[] wanted = [8, 1, 4];
        using var scope = torch.NewDisposeScope();
        using var batch = reader.LoadTopK(wanted, 2);
        var examples = wanted.Select(i => CacheTestData.Example((int)i, 5)).ToArray();
        var rows = examples.Sum(e => e.Rows);
        Assert.Equal(new long[] { rows, 2 }, batch.Ids.shape);
        Assert.Equal(torch.ScalarType.Int32, batch.Ids.dtype);              // as stored: widened on the device by the loss
        Assert.Equal(torch.ScalarType.BFloat16, batch.Logits.dtype);
        Assert.Equal(examples.Select(e => e.Rows), batch.RowCounts);
        var ids = batch.Ids.data<int>().ToArray();
        var logits = batch.Logits.to_type(torch.ScalarType.Float32).data<float>().ToArray();
        var lse = batch.LogSumExp.data<float>().ToArray();
        var row = 0;
        foreach (var e in examples)
        {
            for (var r = 0; r < e.Rows; r++, row++)
            {
                for (var c = 0; c < 2; c++)
                {
                    Assert.Equal(e.TopKIds[r * 5 + c], ids[row * 2 + c]);
                    Assert.Equal(CacheTestData.RoundBf16(e.TopKLogits[r * 5 + c]), logits[row * 2 + c]);
                }
                Assert.Equal(e.LogSumExp[r], lse[row]);
            }
        }
    }

    [Fact]
    public void LoadTopK_Should_Not_Leak_Tensors()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(5), new LogitCacheWriterOptions(ExamplesPerShard: 2));
        using var reader = LogitCacheReader.Open(temp.Path);
        long[] wanted = [0, 3, 4];
        using (reader.LoadTopK(wanted)) { }
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = reader.LoadTopK(wanted, 2);
            Assert.Equal(2, batch.Logits.shape[1]);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Writer_Should_Split_Shards_On_The_Example_Grid_And_The_Byte_Budget()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Sub("count"), CacheTestData.Settings(10), new LogitCacheWriterOptions(ExamplesPerShard: 4));
        var byCount = CacheManifest.Load(Path.Combine(temp.Sub("count"), "manifest.json"));
        Assert.Equal(new long[] { 0, 4, 8 }, byCount.Shards.Select(s => s.FirstExample));
        Assert.Equal(new long[] { 4, 4, 2 }, byCount.Shards.Select(s => s.ExampleCount));
        Assert.Equal("shard-000000004-000000008.safetensors", byCount.Shards[1].File);
        Assert.Equal(Enumerable.Range(0, 10).Sum(i => CacheTestData.Example(i).Rows), byCount.Shards.Sum(s => s.Rows));
        Assert.Equal(Enumerable.Range(0, 10).Sum(i => CacheTestData.Example(i).InputIds.Length), byCount.Shards.Sum(s => s.Tokens));

        // A budget below one example's size gives one example per shard, never an empty shard.
        CacheTestData.WriteAll(temp.Sub("bytes"), CacheTestData.Settings(5), new LogitCacheWriterOptions(ExamplesPerShard: 4, MaxShardBytes: 1));
        var byBytes = CacheManifest.Load(Path.Combine(temp.Sub("bytes"), "manifest.json"));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, byBytes.Shards.Select(s => s.FirstExample));
        Assert.Empty(Directory.GetFiles(temp.Sub("bytes"), "*.tmp"));
        Assert.Empty(Directory.GetFiles(temp.Sub("bytes"), "manifest.part-*"));
    }

    [Fact]
    public void Writer_Should_Refuse_Examples_That_Do_Not_Fit_The_Settings()
    {
        using var temp = new TempDirectory();
        var writer = LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(3, maxSeqLen: 5), new LogitCacheWriterOptions(2));
        Assert.Throws<ArgumentException>(() => writer.Add(CacheTestData.Example(0, 4)));
        var tooLong = new CacheExample(new int[6], new byte[6], 3, [], [], []);
        Assert.Throws<ArgumentException>(() => writer.Add(tooLong));
        Assert.Throws<InvalidOperationException>(() => writer.Complete());
    }
}
