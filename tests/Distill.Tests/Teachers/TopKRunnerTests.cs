using System.Security.Cryptography;
using Distill.LogitCache;
using Distill.Teachers;
using Distill.Text.Tokenization;
using TorchSharp;

namespace Distill.Tests.Teachers;

public class TopKRunnerTests
{
    private static TopKOptions Options(TinyTeacher t, string output, CacheSlice? slice = null) => new()
    {
        Teacher = t.Path,
        Data = t.Data,
        Output = output,
        TopK = 5,
        ChatFormat = TinyTeacher.ChatFormat,
        BatchTokens = 64,
        Slice = slice,
        Writer = new LogitCacheWriterOptions(ExamplesPerShard: 2),
        WindowExamples = 2,
    };

    private static void AssertSameFiles(string expected, string actual)
    {
        var names = Directory.GetFiles(expected).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names, Directory.GetFiles(actual).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, name!))), $"{name} differs");
    }

    private sealed class Synchronous(Action<TopKProgress> report) : IProgress<TopKProgress>
    {
        public void Report(TopKProgress value) => report(value);
    }

    [Fact]
    public void Run_Should_Write_The_Teachers_Rows_For_Every_Example_With_Fingerprints()
    {
        using var t = new TinyTeacher();
        var reports = new List<TopKProgress>();

        var result = TopKRunner.Run(Options(t, t.Sub("cache")), new Synchronous(reports.Add));

        Assert.True(result.Whole);
        Assert.Equal(7, result.ExamplesComputed);
        using var reader = LogitCacheReader.Open(t.Sub("cache"));
        reader.Verify();
        var examples = t.Examples();
        using var model = t.Load();
        var expected = new TopKTeacher(model, 5).Compute(examples, batchTokens: 1);
        Assert.Equal(7, reader.ExampleCount);
        for (var i = 0; i < examples.Count; i++)
        {
            var stored = reader.Example(i).ToExample();
            Assert.Equal(expected[i].InputIds, stored.InputIds);
            Assert.Equal(expected[i].LossMask, stored.LossMask);
            Assert.Equal(expected[i].TopKIds, stored.TopKIds);
            for (var c = 0; c < stored.TopKLogits.Length; c++) Assert.Equal(expected[i].TopKLogits[c], stored.TopKLogits[c], 1e-5);
        }
        var manifest = reader.Manifest;
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(t.Path, "config.json")))), manifest.Teacher.ConfigFingerprint);
        Assert.StartsWith("sha256:", manifest.Teacher.WeightsFingerprint, StringComparison.Ordinal);
        Assert.Equal(TinyTeacher.Vocab, manifest.Teacher.VocabSize);
        Assert.Equal(HfTokenizer.Load(t.Path).Fingerprint, manifest.TokenizerFingerprint);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(t.Data))), manifest.Data.Sha256);
        Assert.Equal(File.ReadAllBytes(t.Data).Length, manifest.Data.Size);
        Assert.Equal(t.Data, manifest.Data.Path);
        Assert.Equal("fp32", manifest.ComputeDType);
        Assert.Equal(64, manifest.BatchTokens);
        Assert.Equal(examples.Max(e => e.InputIds.Length), manifest.MaxSeqLen);
        var last = reports[^1];
        Assert.Equal(7, last.ExamplesDone);
        Assert.Equal(examples.Sum(e => (long)e.InputIds.Length), last.TokensTotal);
        Assert.Equal(last.TokensTotal, last.TokensDone);
    }

    [Fact]
    public void Sliced_Runs_Should_Merge_Into_The_Bytes_Of_A_Single_Run()
    {
        using var t = new TinyTeacher();
        // Bad lines early on shift every later example's line: slices must still find their first example.
        var lines = File.ReadAllLines(t.Data).ToList();
        lines.Insert(1, "not json");
        lines.Insert(4, "{\"messages\": []}");
        File.WriteAllLines(t.Data, lines);
        TopKRunner.Run(Options(t, t.Sub("single")) with { SkipBad = true });

        var first = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(2, 3)) with { SkipBad = true });
        var second = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(0, 3)) with { SkipBad = true });
        var third = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(1, 3)) with { SkipBad = true });

        Assert.False(first.Whole);
        Assert.NotNull(first.MergeNote);
        Assert.False(second.Whole);
        Assert.True(third.Whole);
        Assert.Equal(2, third.Skipped.Count);
        Assert.Equal(7, third.Manifest.ExampleCount);
        AssertSameFiles(t.Sub("single"), t.Sub("sliced"));
    }

    [Fact]
    public void Merge_Should_Combine_Slices_When_Asked_Explicitly()
    {
        using var t = new TinyTeacher(conversations: 5);
        TopKRunner.Run(Options(t, t.Sub("single")));
        TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(0, 2)));
        var part = Path.Combine(t.Sub("sliced"), CacheFolder.PartManifestFileName(new CacheSlice(0, 2)));
        // Hide slice 0's part while slice 1 finishes, as if slice 0 had not reported yet: nothing merges automatically.
        File.Move(part, part + ".keep");
        var second = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(1, 2)));
        File.Move(part + ".keep", part);
        Assert.False(second.Whole);

        var merged = TopKRunner.Merge(t.Sub("sliced"));

        Assert.Equal(5, merged.ExampleCount);
        AssertSameFiles(t.Sub("single"), t.Sub("sliced"));
    }

    [Fact]
    public void Rerun_After_Cancellation_Should_Resume_And_End_Byte_Identical()
    {
        using var t = new TinyTeacher(conversations: 9);
        TopKRunner.Run(Options(t, t.Sub("single")));
        using var cancel = new CancellationTokenSource();
        var progress = new Synchronous(p =>
        {
            if (p.ExamplesDone >= 4) cancel.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => TopKRunner.Run(Options(t, t.Sub("resumed")), progress, cancel.Token));
        Assert.False(File.Exists(Path.Combine(t.Sub("resumed"), CacheFolder.ManifestFileName)));
        var result = TopKRunner.Run(Options(t, t.Sub("resumed")));

        Assert.Equal(4, result.ExamplesResumed);
        Assert.Equal(5, result.ExamplesComputed);
        AssertSameFiles(t.Sub("single"), t.Sub("resumed"));
    }

    [Fact]
    public void Rerun_After_Losing_A_Shard_Inside_A_Window_Should_Redo_It_Byte_Identical()
    {
        using var t = new TinyTeacher(conversations: 9);
        // One example per shard (byte budget), four per window: the resume point falls inside a window.
        var options = Options(t, t.Sub("cache")) with { Writer = new LogitCacheWriterOptions(ExamplesPerShard: 4, MaxShardBytes: 1), WindowExamples = 4 };
        TopKRunner.Run(options);
        Directory.CreateDirectory(t.Sub("expected"));
        foreach (var file in Directory.GetFiles(t.Sub("cache"))) File.Copy(file, Path.Combine(t.Sub("expected"), Path.GetFileName(file)));
        using (var reader = LogitCacheReader.Open(t.Sub("cache")))
            File.Delete(Path.Combine(t.Sub("cache"), reader.Manifest.Shards[5].File));

        var result = TopKRunner.Run(options);

        Assert.Equal(5, result.ExamplesResumed);
        Assert.Equal(4, result.ExamplesComputed);
        AssertSameFiles(t.Sub("expected"), t.Sub("cache"));
    }

    [Fact]
    public void Rerun_With_Other_Settings_Into_The_Same_Folder_Should_Name_The_Key()
    {
        using var t = new TinyTeacher(conversations: 3);
        TopKRunner.Run(Options(t, t.Sub("cache")));

        var e = Assert.Throws<InvalidDataException>(() => TopKRunner.Run(Options(t, t.Sub("cache")) with { TopK = 4 }));

        Assert.Contains("'top_k'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_Lines_Should_Be_Skipped_And_Reported_With_Skip_Bad()
    {
        using var t = new TinyTeacher(3, "not json");

        var result = TopKRunner.Run(Options(t, t.Sub("cache")) with { SkipBad = true, MaxSeqLen = 24, LogitDType = "bf16" });

        // Line 3's first assistant token lies beyond token 24; line 4 is not JSON.
        Assert.Equal([3, 4], result.Skipped.Select(b => b.Line));
        Assert.Contains("truncation", result.Skipped[0].Reason, StringComparison.Ordinal);
        using var reader = LogitCacheReader.Open(t.Sub("cache"));
        Assert.Equal(2, reader.ExampleCount);
        Assert.Equal(24, reader.Manifest.MaxSeqLen);
        Assert.Equal("bf16", reader.Manifest.LogitDType);
        Assert.All(Enumerable.Range(0, 2), i => Assert.True(reader.Example(i).InputIds.Length <= 24));
    }

    [Fact]
    public void Slices_Reading_The_Data_At_Two_Absolute_Paths_Should_Merge_Into_The_Shards_Of_A_Single_Run()
    {
        using var t = new TinyTeacher(conversations: 5);
        // Two machines mount the same bytes at different places (the Slurm / Kubernetes case).
        var nodeA = t.Sub(Path.Combine("node-a", "mnt", "data.jsonl"));
        var nodeB = t.Sub(Path.Combine("node-b", "scratch", "job-7", "train.jsonl"));
        foreach (var copy in new[] { nodeA, nodeB })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(t.Data, copy);
        }
        TopKRunner.Run(Options(t, t.Sub("single")));

        var first = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(0, 2)) with { Data = nodeA });
        var second = TopKRunner.Run(Options(t, t.Sub("sliced"), new CacheSlice(1, 2)) with { Data = nodeB });

        Assert.False(first.Whole);
        Assert.True(second.Whole, second.MergeNote);
        var shards = Directory.GetFiles(t.Sub("single"), "shard-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, shards.Length);
        Assert.Equal(shards, Directory.GetFiles(t.Sub("sliced"), "shard-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in shards)
            Assert.True(File.ReadAllBytes(Path.Combine(t.Sub("single"), name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(t.Sub("sliced"), name!))), name);
        using var single = LogitCacheReader.Open(t.Sub("single"));
        using var sliced = LogitCacheReader.Open(t.Sub("sliced"));
        sliced.Verify();
        Assert.Equal(single.Manifest.Shards, sliced.Manifest.Shards);
        Assert.Equal(single.Manifest.Data with { Path = nodeA }, sliced.Manifest.Data);
    }

    [Fact]
    public void Slices_Computed_In_Other_Dtypes_Should_Not_Merge_And_Say_Which()
    {
        using var t = new TinyTeacher(conversations: 5);

        TopKRunner.Run(Options(t, t.Sub("cache"), new CacheSlice(0, 2)));
        var second = TopKRunner.Run(Options(t, t.Sub("cache"), new CacheSlice(1, 2)) with { ComputeDType = torch.ScalarType.BFloat16 });

        Assert.False(second.Whole);
        Assert.Contains("manifest.part-1-of-2.json: key 'compute_dtype' is \"bf16\" but \"fp32\" in ", second.MergeNote, StringComparison.Ordinal);
        var error = Assert.Throws<InvalidDataException>(() => TopKRunner.Merge(t.Sub("cache")));
        Assert.Contains("'compute_dtype'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(t.Sub("cache"), CacheFolder.ManifestFileName)));
    }

    [Fact]
    public void Rerun_In_Another_Dtype_Should_Refuse_To_Continue_Naming_Both_Values()
    {
        using var t = new TinyTeacher(conversations: 3);
        TopKRunner.Run(Options(t, t.Sub("cache")) with { ComputeDType = torch.ScalarType.BFloat16 });

        var e = Assert.Throws<InvalidDataException>(() => TopKRunner.Run(Options(t, t.Sub("cache"))));

        Assert.Contains("key 'compute_dtype' is \"bf16\" but this run has \"fp32\"", e.Message, StringComparison.Ordinal);
    }
}
