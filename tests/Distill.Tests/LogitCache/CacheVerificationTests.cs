using System.Text.Json.Nodes;
using Distill.LogitCache;
using Distill.Tensors;
using TorchSharp;

namespace Distill.Tests.LogitCache;

/// <summary>Corruption a reader must refuse before anything trains on it: bit flips, edited manifests, bad values.</summary>
public sealed class CacheVerificationTests
{
    private static string WriteCache(TempDirectory temp)
    {
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(6, 4), new LogitCacheWriterOptions(ExamplesPerShard: 3));
        return Path.Combine(temp.Path, "shard-000000003-000000006.safetensors");
    }

    private static void FlipLowBit(string shard, string tensor)
    {
        long begin;
        using (var file = SafetensorsFile.Open(shard)) begin = file.Info(tensor).Begin;
        var bytes = File.ReadAllBytes(shard);
        var dataStart = 8 + (long)BitConverter.ToUInt64(bytes, 0);
        bytes[dataStart + begin] ^= 0x01;
        File.WriteAllBytes(shard, bytes);
    }

    [Theory]
    [InlineData("topk_logits")]
    [InlineData("logsumexp")]
    [InlineData("topk_ids")]
    [InlineData("input_ids")]
    [InlineData("example_offsets")]
    public void Open_Should_Refuse_A_One_Bit_Flip_In_Any_Tensor_Naming_The_Shard(string tensor)
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        FlipLowBit(shard, tensor);

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));

        Assert.Contains(shard, error.Message);
        Assert.Contains("checksum mismatch", error.Message);
    }

    [Fact]
    public void Open_Should_Refuse_An_Edited_Checksum_In_The_Manifest()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        var path = Path.Combine(temp.Path, CacheFolder.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["shards"]![1]!["sha256"] = new string('0', 64);
        File.WriteAllText(path, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));

        Assert.Contains(shard, error.Message);
        Assert.Contains("checksum mismatch", error.Message);
    }

    [Fact]
    public void Open_Without_Checksums_Should_Accept_A_Flip_That_Leaves_Values_Valid()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        FlipLowBit(shard, "logsumexp"); // the lowest mantissa bit: a valid value, only the checksum can tell

        using var reader = LogitCacheReader.Open(temp.Path, verifyChecksums: false);
        using var batch = reader.LoadTopK([3, 4, 5]);

        Assert.Equal(reader.Example(3).Rows + reader.Example(4).Rows + reader.Example(5).Rows, batch.Ids.shape[0]);
    }

    // Values a buggy writer could store with a matching checksum: LoadTopK must still refuse them, naming shard and row.
    [Theory]
    [InlineData("nan_logsumexp", "logsumexp is NaN")]
    [InlineData("negative_logsumexp", "logsumexp is -0.5")]
    [InlineData("column0", "topk_logits[0] is 1")]
    [InlineData("infinite_logit", "topk_logits[2] is not finite")]
    public void LoadTopK_Should_Name_Shard_And_Row_Of_A_Bad_Value(string defect, string expected)
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        CacheTestData.RewriteShard(shard, (name, t) => (defect, name) switch
        {
            ("nan_logsumexp", "logsumexp") => t.index_fill(0, torch.tensor(1L), float.NaN),
            ("negative_logsumexp", "logsumexp") => t.index_fill(0, torch.tensor(1L), -0.5f),
            ("column0", "topk_logits") => Set(t, 1, 0, 1f),
            ("infinite_logit", "topk_logits") => Set(t, 1, 2, float.NegativeInfinity),
            _ => t,
        });
        CacheTestData.RecordChecksum(temp.Path, shard);

        using var reader = LogitCacheReader.Open(temp.Path);
        reader.LoadTopK([0, 1, 2]); // the first shard is intact
        var error = Assert.Throws<InvalidDataException>(() => reader.LoadTopK([3, 4, 5]));

        Assert.Contains(shard, error.Message);
        Assert.Contains("row 1 ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    private static torch.Tensor Set(torch.Tensor t, long row, long column, float value)
    {
        var copy = t.clone();
        copy[row, column] = torch.tensor(value);
        return copy;
    }

    [Fact]
    public void LoadTopK_Should_Accept_A_Log_Sum_Exp_A_Rounding_Below_Zero()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        CacheTestData.RewriteShard(shard, (name, t) => name == "logsumexp" ? t.index_fill(0, torch.tensor(1L), -1e-5f) : t);
        CacheTestData.RecordChecksum(temp.Path, shard);

        using var reader = LogitCacheReader.Open(temp.Path);
        using var batch = reader.LoadTopK([3, 4, 5]);

        Assert.Equal(-1e-5f, batch.LogSumExp[1].item<float>());
    }

    [Fact]
    public void LoadTopK_Should_Refuse_Ids_Beyond_A_Manifest_Vocabulary_Edited_Down()
    {
        using var temp = new TempDirectory();
        WriteCache(temp);
        var path = Path.Combine(temp.Path, CacheFolder.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["teacher"]!["vocab_size"] = 5; // ids in the shards run up to 49
        File.WriteAllText(path, json.ToJsonString());

        using var reader = LogitCacheReader.Open(temp.Path);
        var error = Assert.Throws<InvalidDataException>(() => reader.LoadTopK([0, 1, 2, 3, 4, 5]));

        Assert.Contains("shard-", error.Message);
        Assert.Contains("outside the teacher vocabulary of 5", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:tok")]
    [InlineData("not-a-hash-but-64-characters-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public void Open_Should_Refuse_A_Tokenizer_Fingerprint_That_Is_Not_A_Hash(string fingerprint)
    {
        using var temp = new TempDirectory();
        WriteCache(temp);
        var path = Path.Combine(temp.Path, CacheFolder.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["tokenizer_fingerprint"] = fingerprint;
        File.WriteAllText(path, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));

        Assert.Contains(path, error.Message);
        Assert.Contains("tokenizer_fingerprint", error.Message);
    }
}
