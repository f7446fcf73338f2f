using System.Text.Json.Nodes;
using Distill.LogitCache;
using Distill.Tensors;
using TorchSharp;

namespace Distill.Tests.LogitCache;

public sealed class LogitCacheCorruptionTests
{
    private static string WriteCache(TempDirectory temp)
    {
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(6, 4), new LogitCacheWriterOptions(ExamplesPerShard: 3));
        return Path.Combine(temp.Path, "shard-000000003-000000006.safetensors");
    }

    [Fact]
    public void Open_Should_Throw_Naming_The_File_When_A_Shard_Is_Truncated()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..^10]);

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));
        Assert.Contains(shard, error.Message);
    }

    [Fact]
    public void Open_Without_Checksums_Then_Verify_Should_Throw_Naming_The_File_When_A_Byte_Is_Flipped()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        long begin;
        using (var file = SafetensorsFile.Open(shard)) begin = file.Info("logsumexp").Begin;
        var bytes = File.ReadAllBytes(shard);
        var dataStart = 8 + (long)BitConverter.ToUInt64(bytes, 0);
        bytes[dataStart + begin] ^= 0x01; // lowest mantissa bit of a log-sum-exp: still valid, only the checksum can tell
        File.WriteAllBytes(shard, bytes);

        using var reader = LogitCacheReader.Open(temp.Path, verifyChecksums: false);
        var error = Assert.Throws<InvalidDataException>(reader.Verify);
        Assert.Contains(shard, error.Message);
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Verify_Should_Pass_On_An_Intact_Cache()
    {
        using var temp = new TempDirectory();
        WriteCache(temp);
        using var reader = LogitCacheReader.Open(temp.Path);
        reader.Verify();
    }

    [Fact]
    public void Open_Should_Throw_Naming_File_And_Tensor_When_A_Shape_Is_Wrong()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        RewriteShard(shard, (name, t) => name == "topk_ids" ? t.narrow(1, 0, 3).contiguous() : t);

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path, verifyChecksums: false));
        Assert.Contains(shard, error.Message);
        Assert.Contains("topk_ids", error.Message);
    }

    [Fact]
    public void Open_Should_Throw_When_The_Loss_Mask_Disagrees_With_The_Row_Count()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        RewriteShard(shard, (name, t) => name == "loss_mask" ? torch.ones_like(t).index_fill_(0, torch.tensor(0L), 0) : t);

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path, verifyChecksums: false));
        Assert.Contains(shard, error.Message);
        Assert.Contains("loss_mask", error.Message);
    }

    [Fact]
    public void Open_Should_Throw_Naming_The_Manifest_And_Key_When_A_Key_Is_Missing()
    {
        using var temp = new TempDirectory();
        WriteCache(temp);
        var path = Path.Combine(temp.Path, "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json.Remove("top_k");
        File.WriteAllText(path, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));
        Assert.Contains(path, error.Message);
        Assert.Contains("top_k", error.Message);
    }

    [Fact]
    public void Open_Should_Throw_When_A_Listed_Shard_Is_Missing()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        File.Delete(shard);
        var error = Assert.Throws<InvalidDataException>(() => LogitCacheReader.Open(temp.Path));
        Assert.Contains(shard, error.Message);
    }

    [Fact]
    public void Verify_Should_Throw_Naming_File_And_Row_When_Logits_Are_Not_Max_Subtracted()
    {
        using var temp = new TempDirectory();
        var shard = WriteCache(temp);
        RewriteShard(shard, (name, t) => name == "topk_logits" ? t - 1f : t);
        CacheTestData.RecordChecksum(temp.Path, shard);

        using var reader = LogitCacheReader.Open(temp.Path);
        var error = Assert.Throws<InvalidDataException>(reader.Verify);
        Assert.Contains(shard, error.Message);
        Assert.Contains("row 0: topk_logits[0]", error.Message);
    }

    private static void RewriteShard(string path, Func<string, torch.Tensor, torch.Tensor> change) => CacheTestData.RewriteShard(path, change);
}
