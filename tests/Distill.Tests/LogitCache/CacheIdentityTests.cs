using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

/// <summary>What makes slices and resumed runs the same cache: content and compute settings, not paths or batch budgets.</summary>
public sealed class CacheIdentityTests
{
    private static readonly LogitCacheWriterOptions Options = new(ExamplesPerShard: 3);

    private static CacheManifest At(CacheManifest settings, string dataPath, long? batchTokens) =>
        settings with { Data = settings.Data with { Path = dataPath }, BatchTokens = batchTokens };

    private static void AssertSameShards(string expected, string actual)
    {
        var names = Directory.GetFiles(expected, "shard-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names, Directory.GetFiles(actual, "shard-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, name!))), name);
    }

    [Fact]
    public void Merge_Should_Accept_Slices_That_Saw_The_Data_At_Other_Paths()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        CacheTestData.WriteAll(temp.Sub("single"), settings, Options);
        CacheTestData.WriteAll(temp.Sub("sliced"), At(settings, "/mnt/node-a/train.jsonl", 4096), Options, new CacheSlice(0, 2));
        CacheTestData.WriteAll(temp.Sub("sliced"), At(settings, "/scratch/job-7/data/train.jsonl", 4096), Options, new CacheSlice(1, 2));

        var merged = CacheFolder.Merge(temp.Sub("sliced"));

        AssertSameShards(temp.Sub("single"), temp.Sub("sliced"));
        Assert.Equal("/mnt/node-a/train.jsonl", merged.Data.Path); // the first part's, informational
        Assert.Equal(4096, merged.BatchTokens);
        using var single = LogitCacheReader.Open(temp.Sub("single"));
        Assert.Equal(single.Manifest.Shards, merged.Shards);
        Assert.Null(CacheManifest.FirstDifference(single.Manifest, merged));
    }

    [Fact]
    public void Merge_Should_Drop_The_Batch_Budget_When_Slices_Used_Different_Ones()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        CacheTestData.WriteAll(temp.Path, At(settings, "/a/train.jsonl", 4096), Options, new CacheSlice(0, 2));
        CacheTestData.WriteAll(temp.Path, At(settings, "/a/train.jsonl", 512), Options, new CacheSlice(1, 2));

        var merged = CacheFolder.Merge(temp.Path);

        Assert.Null(merged.BatchTokens);
        Assert.DoesNotContain("batch_tokens", File.ReadAllText(Path.Combine(temp.Path, CacheFolder.ManifestFileName)), StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_Should_Refuse_Slices_Of_Other_Compute_Dtypes_Naming_Both_Values()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(10, computeDType: "fp32"), Options, new CacheSlice(0, 2));
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(10, computeDType: "bf16"), Options, new CacheSlice(1, 2));

        var error = Assert.Throws<InvalidDataException>(() => CacheFolder.Merge(temp.Path));

        Assert.Contains("manifest.part-1-of-2.json: key 'compute_dtype' is \"bf16\" but \"fp32\" in ", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp.Path, CacheFolder.ManifestFileName)));
    }

    [Fact]
    public void Merge_Should_Refuse_Slices_Of_Other_Data_Naming_Both_Hashes()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        CacheTestData.WriteAll(temp.Path, settings, Options, new CacheSlice(0, 2));
        CacheTestData.WriteAll(temp.Path, settings with { Data = settings.Data with { Sha256 = new string('e', 64) } }, Options, new CacheSlice(1, 2));

        var error = Assert.Throws<InvalidDataException>(() => CacheFolder.Merge(temp.Path));

        Assert.Contains($"key 'data.sha256' is \"{new string('e', 64)}\" but \"{new string('a', 64)}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_Should_Refuse_Another_Compute_Dtype_Naming_Both_Values()
    {
        using var temp = new TempDirectory();
        var writer = LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10, computeDType: "bf16"), Options);
        for (var i = 0; i < 4; i++) writer.Add(CacheTestData.Example(i));

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10, computeDType: "fp32"), Options));

        Assert.Contains("manifest.part-0-of-1.json: key 'compute_dtype' is \"bf16\" but this run has \"fp32\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_From_Another_Mount_Point_Should_Continue_And_End_With_The_Same_Shards()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        CacheTestData.WriteAll(temp.Sub("clean"), settings, Options);
        var writer = LogitCacheWriter.Open(temp.Sub("moved"), At(settings, "/old/mount/train.jsonl", 4096), Options);
        for (var i = 0; i < 7; i++) writer.Add(CacheTestData.Example(i));

        var resumed = LogitCacheWriter.Open(temp.Sub("moved"), At(settings, "/new/mount/train.jsonl", 1024), Options);
        Assert.Equal(6, resumed.NextExample);
        for (var i = resumed.NextExample; i < resumed.EndExample; i++) resumed.Add(CacheTestData.Example((int)i));
        var manifest = resumed.Complete();

        AssertSameShards(temp.Sub("clean"), temp.Sub("moved"));
        Assert.Equal("/new/mount/train.jsonl", manifest.Data.Path);
        Assert.Null(manifest.BatchTokens); // shards 0-5 were computed under 4096, the rest under 1024
    }

    [Fact]
    public void Resume_Should_Refuse_A_Part_Written_By_Version_1_Whose_Compute_Dtype_Is_Unknown()
    {
        using var temp = new TempDirectory();
        var writer = LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10), Options);
        for (var i = 0; i < 4; i++) writer.Add(CacheTestData.Example(i));
        var part = Path.Combine(temp.Path, "manifest.part-0-of-1.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(part))!.AsObject();
        node["version"] = 1;
        node.Remove("compute_dtype");
        node.Remove("batch_tokens");
        node["data"]!.AsObject().Remove("size");
        File.WriteAllText(part, node.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10), Options));

        Assert.Contains("key 'version' is 1 but this run has 2", error.Message, StringComparison.Ordinal);
    }
}
