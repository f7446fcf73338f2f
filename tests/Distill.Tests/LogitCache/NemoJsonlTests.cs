using System.Text.Json.Nodes;
using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

public sealed class NemoJsonlTests
{
    private const int Eos = 2;

    private static LogitCacheReader MakeCache(TempDirectory temp, int examples)
    {
        CacheTestData.WriteAll(temp.Sub("cache"), CacheTestData.Settings(examples, 5), new LogitCacheWriterOptions(ExamplesPerShard: 4));
        return LogitCacheReader.Open(temp.Sub("cache"));
    }

    [Fact]
    public void Export_Then_Import_Should_Reproduce_Every_Example_Bit_Exactly()
    {
        using var temp = new TempDirectory();
        using var source = MakeCache(temp, 7);
        var result = NemoJsonl.Export(source, temp.Sub("nemo"), "train", 3, Eos);

        NemoJsonl.Import(result.Files, temp.Sub("back"), source.Manifest.Teacher, "sha256:7777777777777777777777777777777777777777777777777777777777777777", "sha256:tmpl");

        using var back = LogitCacheReader.Open(temp.Sub("back"));
        Assert.Equal(7, back.ExampleCount);
        Assert.Equal(5, back.TopK);
        Assert.Equal("f32", back.Manifest.LogitDType);
        for (var i = 0; i < 7; i++)
        {
            var want = source.Example(i).ToExample();
            var got = back.Example(i).ToExample();
            Assert.Equal(want.InputIds, got.InputIds);
            Assert.Equal(want.LossMask, got.LossMask);
            Assert.Equal(want.TopKIds, got.TopKIds);
            Assert.Equal(want.TopKLogits.Select(BitConverter.SingleToInt32Bits), got.TopKLogits.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(want.LogSumExp.Select(BitConverter.SingleToInt32Bits), got.LogSumExp.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Theory]
    [InlineData(NemoRemainder.Repeat, 3, new long[] { 0, 1, 2, 3, 4, 5, 6, 0, 1 })]
    [InlineData(NemoRemainder.Drop, 2, new long[] { 0, 1, 2, 3, 4, 5 })]
    public void Export_Should_Give_Every_Chunk_The_Same_Line_Count(NemoRemainder remainder, int perChunk, long[] indices)
    {
        using var temp = new TempDirectory();
        using var source = MakeCache(temp, 7);
        var result = NemoJsonl.Export(source, temp.Sub("nemo"), "train", 3, Eos, remainder);

        Assert.Equal(perChunk, result.ExamplesPerChunk);
        Assert.Equal(new[] { "train_0.jsonl", "train_1.jsonl", "train_2.jsonl" }, result.Files.Select(Path.GetFileName));
        var lines = result.Files.Select(f => File.ReadAllLines(f)).ToArray();
        Assert.All(lines, chunk => Assert.Equal(perChunk, chunk.Length));
        Assert.Equal(indices, lines.SelectMany(c => c).Select(l => (long)JsonNode.Parse(l)!["index"]!));
        Assert.Equal(remainder == NemoRemainder.Repeat ? 2 : 0, result.RepeatedLines);
        Assert.Equal(remainder == NemoRemainder.Drop ? 1 : 0, result.DroppedExamples);
    }

    [Fact]
    public void Export_Should_Shift_Pad_And_Fill_Rows_Like_NeMo()
    {
        // input_ids [5, 6, 7, 8], loss_mask [0, 0, 1, 1] → tokens [5, 6, 7], labels [6, 7, 8], loss_mask [0, 1, 1];
        // context = input_ids[:2] (up to the last unsupervised token), answers = [7, 8]; padded to 16 with eos.
        using var temp = new TempDirectory();
        var settings = CacheManifest.Create(new TeacherFingerprint("c", "w", 20), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "", new DataSource("d", new string('c', 64)), 2, "f32", 8, 1);
        var writer = LogitCacheWriter.Open(temp.Sub("cache"), settings);
        writer.Add(new CacheExample([5, 6, 7, 8], [0, 0, 1, 1], 2, [7, 3, 8, 9], [0f, -0.1f, 0f, -2.5f], [0.25f, 1.5f]));
        writer.Complete();
        using var reader = LogitCacheReader.Open(temp.Sub("cache"));

        var file = NemoJsonl.Export(reader, temp.Sub("nemo"), "x", 1, Eos).Files[0];

        var line = JsonNode.Parse(File.ReadAllLines(file).Single())!.AsObject();
        Assert.Equal(["tokens", "labels", "loss_mask", "contexts", "context_lengths", "answers", "metadata", "topk_logits", "topk_token_ids", "log_sum_exp_logits", "index"],
            line.Select(p => p.Key));
        int[] Ints(string key) => line[key]!.AsArray().Select(n => (int)n!).ToArray();
        int[] Padded(params int[] head) => [.. head, .. Enumerable.Repeat(Eos, 16 - head.Length)];
        Assert.Equal(Padded(5, 6, 7), Ints("tokens"));
        Assert.Equal(Padded(6, 7, 8), Ints("labels"));
        Assert.Equal([0, 1, 1, .. new int[13]], Ints("loss_mask"));
        Assert.Equal(Padded(5, 6), Ints("contexts"));
        Assert.Equal(2, (int)line["context_lengths"]!);
        Assert.Equal(Padded(7, 8), Ints("answers"));
        var ids = line["topk_token_ids"]!.AsArray();
        var logits = line["topk_logits"]!.AsArray();
        var lse = line["log_sum_exp_logits"]!.AsArray();
        Assert.Equal(16, ids.Count);
        Assert.Equal([Eos, Eos], ids[0]!.AsArray().Select(n => (int)n!));
        Assert.Equal([7, 3], ids[1]!.AsArray().Select(n => (int)n!));
        Assert.Equal([8, 9], ids[2]!.AsArray().Select(n => (int)n!));
        Assert.Equal([Eos, Eos], ids[15]!.AsArray().Select(n => (int)n!));
        Assert.Equal(-0.1f, (float)(double)logits[1]![1]!);
        Assert.Equal([0.0, 0.0], logits[9]!.AsArray().Select(n => (double)n!));
        Assert.Equal(1.5, (double)lse[2]!);
        Assert.Equal(0.0, (double)lse[0]!);
        Assert.Equal(0, (long)line["index"]!);
    }

    [Fact]
    public void Import_Should_Strip_NeMo_Padding_Without_Length_Metadata()
    {
        // A line as NeMo writes it: S = 16, eos = 2, no distill metadata; the example is input_ids [5, 6, 7, 2]
        // with positions 2 and 3 supervised, whose rows are file rows 1 and 2.
        var s = 16;
        int[] Pad(params int[] head) => [.. head, .. Enumerable.Repeat(Eos, s - head.Length)];
        var line = new JsonObject
        {
            ["tokens"] = new JsonArray(Pad(5, 6, 7).Select(v => (JsonNode)v).ToArray()),
            ["labels"] = new JsonArray(Pad(6, 7, 2).Select(v => (JsonNode)v).ToArray()),
            ["loss_mask"] = new JsonArray(new[] { 0, 1, 1 }.Concat(new int[s - 3]).Select(v => (JsonNode)v).ToArray()),
            ["topk_logits"] = new JsonArray(Enumerable.Range(0, s).Select(_ => (JsonNode)new JsonArray(0.0, -1.25)).ToArray()),
            ["topk_token_ids"] = new JsonArray(Enumerable.Range(0, s).Select(i => (JsonNode)new JsonArray(i, i + 1)).ToArray()),
            ["log_sum_exp_logits"] = new JsonArray(Enumerable.Range(0, s).Select(i => (JsonNode)(0.5 * i)).ToArray()),
            ["index"] = 4,
            ["metadata"] = new JsonObject(),
        };
        using var temp = new TempDirectory();
        var file = temp.Sub("nemo_0.jsonl");
        File.WriteAllText(file, line.ToJsonString() + "\n" + line.ToJsonString() + "\n");

        var manifest = NemoJsonl.Import([file], temp.Sub("cache"), new TeacherFingerprint("c", "w", 20), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "");

        Assert.Equal(1, manifest.ExampleCount); // the repeated index 4 is dropped
        using var reader = LogitCacheReader.Open(temp.Sub("cache"));
        var got = reader.Example(0).ToExample();
        Assert.Equal([5, 6, 7, 2], got.InputIds);
        Assert.Equal([0, 0, 1, 1], got.LossMask);
        Assert.Equal([1, 2, 2, 3], got.TopKIds);
        Assert.Equal([0f, -1.25f, 0f, -1.25f], got.TopKLogits);
        Assert.Equal([0.5f, 1f], got.LogSumExp);
    }

    [Fact]
    public void Import_Rerun_After_A_Kill_Should_Resume_And_Match_A_Clean_Import()
    {
        using var temp = new TempDirectory();
        using var source = MakeCache(temp, 7);
        var files = NemoJsonl.Export(source, temp.Sub("nemo"), "train", 2, Eos).Files;
        var options = new LogitCacheWriterOptions(ExamplesPerShard: 3);
        NemoJsonl.Import(files, temp.Sub("clean"), source.Manifest.Teacher, "sha256:7777777777777777777777777777777777777777777777777777777777777777", "", options);

        // The killed import got as far as its first shard: copy that shard and a part manifest listing only it.
        var killed = temp.Sub("killed");
        Directory.CreateDirectory(killed);
        var clean = CacheManifest.Load(Path.Combine(temp.Sub("clean"), "manifest.json"));
        File.Copy(Path.Combine(temp.Sub("clean"), clean.Shards[0].File), Path.Combine(killed, clean.Shards[0].File));
        (clean with { Slice = CacheSlice.Whole, Shards = [clean.Shards[0]] }).Save(Path.Combine(killed, "manifest.part-0-of-1.json"));

        NemoJsonl.Import(files, killed, source.Manifest.Teacher, "sha256:7777777777777777777777777777777777777777777777777777777777777777", "", options);

        var want = CacheTestData.Snapshot(temp.Sub("clean"));
        var got = CacheTestData.Snapshot(killed);
        Assert.Equal(want.Keys, got.Keys);
        foreach (var name in want.Keys) Assert.True(want[name].AsSpan().SequenceEqual(got[name]), name);
    }

    [Fact]
    public void Import_Should_Name_File_And_Line_Of_A_Bad_Line()
    {
        using var temp = new TempDirectory();
        using var source = MakeCache(temp, 2);
        var file = NemoJsonl.Export(source, temp.Sub("nemo"), "t", 1, Eos).Files[0];
        var lines = File.ReadAllLines(file);
        var broken = JsonNode.Parse(lines[1])!.AsObject();
        broken.Remove("labels");
        File.WriteAllLines(file, [lines[0], broken.ToJsonString()]);

        var error = Assert.Throws<InvalidDataException>(() =>
            NemoJsonl.Import([file], temp.Sub("back"), source.Manifest.Teacher, "sha256:7777777777777777777777777777777777777777777777777777777777777777", ""));
        Assert.Contains($"{file}:2", error.Message);
        Assert.Contains("labels", error.Message);
    }
}
