using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

public sealed class LogitCacheSliceTests
{
    private static readonly LogitCacheWriterOptions Options = new(ExamplesPerShard: 3);

    [Fact]
    public void Slices_Merged_Should_Equal_A_Single_Run_Byte_For_Byte()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(13);
        CacheTestData.WriteAll(temp.Sub("single"), settings, Options);
        // Slices write in any order into one folder.
        foreach (var i in new[] { 2, 0, 1 }) CacheTestData.WriteAll(temp.Sub("sliced"), settings, Options, new CacheSlice(i, 3));
        Assert.Equal(3, Directory.GetFiles(temp.Sub("sliced"), "manifest.part-*-of-3.json").Length);

        CacheFolder.Merge(temp.Sub("sliced"));

        var single = CacheTestData.Snapshot(temp.Sub("single"));
        var sliced = CacheTestData.Snapshot(temp.Sub("sliced"));
        Assert.Equal(single.Keys, sliced.Keys);
        foreach (var name in single.Keys) Assert.True(single[name].AsSpan().SequenceEqual(sliced[name]), name);
        using var reader = LogitCacheReader.Open(temp.Sub("sliced"));
        Assert.Equal(13, reader.ExampleCount);
    }

    [Fact]
    public void Slice_Ranges_Should_Be_Whole_Grid_Cells_Covering_Everything()
    {
        // 13 examples, cells of 3 → 5 cells; 3 slices take cells [0,1), [1,3), [3,5).
        Assert.Equal((0L, 3L), new CacheSlice(0, 3).Range(13, 3));
        Assert.Equal((3L, 9L), new CacheSlice(1, 3).Range(13, 3));
        Assert.Equal((9L, 13L), new CacheSlice(2, 3).Range(13, 3));
        Assert.Equal((0L, 0L), new CacheSlice(0, 4).Range(2, 3));
        Assert.Equal((0L, 2L), new CacheSlice(3, 4).Range(2, 3));
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    public void Slice_Should_Parse_I_Of_N(string text, int index, int count) =>
        Assert.Equal(new CacheSlice(index, count), CacheSlice.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/2")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void Slice_Should_Refuse_Malformed_Text(string text) =>
        Assert.Throws<ArgumentException>(() => CacheSlice.Parse(text));

    [Fact]
    public void Reader_Should_Refuse_A_Folder_With_Only_Part_Manifests()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(6), Options, new CacheSlice(0, 2));
        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));
        Assert.Contains("part manifests", error.Message);
    }

    [Fact]
    public void Merge_Should_Refuse_Naming_The_Missing_Range()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(13);
        CacheTestData.WriteAll(temp.Path, settings, Options, new CacheSlice(0, 3));
        CacheTestData.WriteAll(temp.Path, settings, Options, new CacheSlice(2, 3));

        var error = Assert.Throws<InvalidDataException>(() => CacheFolder.Merge(temp.Path));
        Assert.Contains("[3, 9)", error.Message);
        Assert.Contains("slice(s) 1 of 3", error.Message);
        Assert.False(File.Exists(Path.Combine(temp.Path, "manifest.json")));
    }

    [Fact]
    public void Merge_Should_Refuse_Overlapping_Parts()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(12), Options, new CacheSlice(0, 2));
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(12), Options, new CacheSlice(0, 1));
        File.Move(Path.Combine(temp.Path, "manifest.json"), Path.Combine(temp.Path, "manifest.part-0-of-1.json"));
        var whole = CacheManifest.Load(Path.Combine(temp.Path, "manifest.part-0-of-1.json"));
        (whole with { Slice = new CacheSlice(1, 2) }).Save(Path.Combine(temp.Path, "manifest.part-1-of-2.json"));
        File.Delete(Path.Combine(temp.Path, "manifest.part-0-of-1.json"));

        var error = Assert.Throws<InvalidDataException>(() => CacheFolder.Merge(temp.Path));
        Assert.Contains("overlap", error.Message);
    }

    [Fact]
    public void Resume_After_A_Kill_Should_End_Byte_Identical()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        CacheTestData.WriteAll(temp.Sub("clean"), settings, Options);

        // Simulated kill: two shards complete, the third half-written as a temp file, part manifest on disk.
        var dir = temp.Sub("killed");
        var writer = LogitCacheWriter.Open(dir, settings, Options);
        for (var i = 0; i < 7; i++) writer.Add(CacheTestData.Example(i));
        File.WriteAllBytes(Path.Combine(dir, "shard-000000006-000000009.safetensors.tmp"), [1, 2, 3]);
        Assert.True(File.Exists(Path.Combine(dir, "manifest.part-0-of-1.json")));
        Assert.False(File.Exists(Path.Combine(dir, "manifest.json")));

        var resumed = LogitCacheWriter.Open(dir, settings, Options);
        Assert.Equal(6, resumed.NextExample);
        Assert.Equal(2, resumed.CompletedShards.Count);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        for (var i = resumed.NextExample; i < resumed.EndExample; i++) resumed.Add(CacheTestData.Example((int)i));
        resumed.Complete();

        var clean = CacheTestData.Snapshot(temp.Sub("clean"));
        var after = CacheTestData.Snapshot(dir);
        Assert.Equal(clean.Keys, after.Keys);
        foreach (var name in clean.Keys) Assert.True(clean[name].AsSpan().SequenceEqual(after[name]), name);
    }

    [Fact]
    public void Resume_Should_Redo_A_Listed_Shard_Whose_Checksum_No_Longer_Matches()
    {
        using var temp = new TempDirectory();
        var settings = CacheTestData.Settings(10);
        var writer = LogitCacheWriter.Open(temp.Path, settings, Options);
        for (var i = 0; i < 7; i++) writer.Add(CacheTestData.Example(i));
        var second = Path.Combine(temp.Path, "shard-000000003-000000006.safetensors");
        var bytes = File.ReadAllBytes(second);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(second, bytes);

        Assert.Equal(3, LogitCacheWriter.Open(temp.Path, settings, Options).NextExample);
    }

    [Fact]
    public void Resume_Should_Refuse_A_Folder_Written_With_Other_Settings()
    {
        using var temp = new TempDirectory();
        var writer = LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10), Options);
        for (var i = 0; i < 3; i++) writer.Add(CacheTestData.Example(i));

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheWriter.Open(temp.Path, CacheTestData.Settings(10, topK: 4), Options));
        Assert.Contains("top_k", error.Message);
        Assert.Contains("manifest.part-0-of-1.json", error.Message);
    }
}
