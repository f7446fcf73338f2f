using System.Text.Json.Nodes;
using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

public sealed class CacheManifestTests
{
    private static readonly ShardEntry Shard = new("shard-000000000-000000002.safetensors", 0, 2, 5, 9, new string('0', 64));

    [Fact]
    public void Json_Should_Use_The_Documented_Snake_Case_Keys_And_Round_Trip()
    {
        var manifest = CacheTestData.Settings(2) with { Shards = [Shard] };
        var json = manifest.ToJson();
        var node = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(
            ["format", "version", "teacher", "tokenizer_fingerprint", "chat_template", "data", "top_k", "logit_dtype", "compute_dtype",
             "max_seq_len", "batch_tokens", "example_count", "shards"],
            node.Select(p => p.Key));
        Assert.Equal(["path", "sha256", "size"], node["data"]!.AsObject().Select(p => p.Key));
        Assert.Equal(2, (int)node["version"]!);
        Assert.Equal(["config_fingerprint", "weights_fingerprint", "vocab_size"], node["teacher"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["file", "first_example", "example_count", "rows", "tokens", "sha256"], node["shards"]![0]!.AsObject().Select(p => p.Key));
        Assert.Equal("distill-logit-cache", (string?)node["format"]);
        Assert.Equal(json, CacheManifest.Parse(json, "m.json").ToJson());
    }

    [Theory]
    [InlineData("logit_dtype", "\"fp8\"")]
    [InlineData("top_k", "51")]
    [InlineData("version", "3")]
    [InlineData("version", "0")]
    [InlineData("compute_dtype", "\"fp16\"")]
    [InlineData("batch_tokens", "0")]
    [InlineData("format", "\"other\"")]
    [InlineData("example_count", "3")]
    public void Parse_Should_Name_The_Bad_Key(string key, string value)
    {
        var node = JsonNode.Parse((CacheTestData.Settings(2) with { Shards = [Shard] }).ToJson())!.AsObject();
        node[key] = JsonNode.Parse(value);
        var error = Assert.Throws<InvalidDataException>(() => CacheManifest.Parse(node.ToJsonString(), "cache/manifest.json"));
        Assert.Contains("cache/manifest.json", error.Message);
        Assert.Contains(key == "example_count" ? "shards" : key, error.Message);
    }

    [Fact]
    public void Parse_Should_Reject_Unknown_Keys_And_Non_Contiguous_Shards()
    {
        var node = JsonNode.Parse((CacheTestData.Settings(4) with { Shards = [Shard, Shard with { FirstExample = 3 }] }).ToJson())!.AsObject();
        var gap = Assert.Throws<InvalidDataException>(() => CacheManifest.Parse(node.ToJsonString(), "m.json"));
        Assert.Contains("shards[1].first_example", gap.Message);

        node["shards"] = new JsonArray();
        node["extra"] = 1;
        var unknown = Assert.Throws<InvalidDataException>(() => CacheManifest.Parse(node.ToJsonString(), "m.json"));
        Assert.Contains("extra", unknown.Message);
    }

    [Fact]
    public void Parse_Should_Name_A_Missing_Nested_Key()
    {
        var node = JsonNode.Parse(CacheTestData.Settings(0).ToJson())!.AsObject();
        node["teacher"]!.AsObject().Remove("vocab_size");
        var error = Assert.Throws<InvalidDataException>(() => CacheManifest.Parse(node.ToJsonString(), "m.json"));
        Assert.Contains("vocab_size", error.Message);
    }

    // What version 1 wrote, before compute_dtype, batch_tokens and data.size existed.
    private const string Version1 = """
        {
          "format": "distill-logit-cache",
          "version": 1,
          "teacher": { "config_fingerprint": "sha256:c", "weights_fingerprint": "sha256:w", "vocab_size": 50 },
          "tokenizer_fingerprint": "sha256:7777777777777777777777777777777777777777777777777777777777777777",
          "chat_template": "",
          "data": { "path": "/data/me/train.jsonl", "sha256": "5d41402abc4b2a76b9719d911017c592ae4b11b6a3c2f8a1e2f3b4c5d6e7f809" },
          "top_k": 3,
          "logit_dtype": "bf16",
          "max_seq_len": 64,
          "example_count": 2,
          "shards": [ { "file": "shard-000000000-000000002.safetensors", "first_example": 0, "example_count": 2, "rows": 5, "tokens": 9,
                        "sha256": "0000000000000000000000000000000000000000000000000000000000000000" } ]
        }
        """;

    [Fact]
    public void Parse_Should_Read_A_Version_1_Manifest_With_The_Newer_Keys_Unknown()
    {
        var manifest = CacheManifest.Parse(Version1, "old/manifest.json");

        Assert.Equal(1, manifest.Version);
        Assert.Null(manifest.ComputeDType);
        Assert.Null(manifest.BatchTokens);
        Assert.Null(manifest.Data.Size);
        Assert.Equal("/data/me/train.jsonl", manifest.Data.Path);
        Assert.Equal("bf16", manifest.LogitDType);
        Assert.DoesNotContain("compute_dtype", manifest.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_Should_Open_A_Cache_Whose_Manifest_Is_Version_1()
    {
        using var temp = new TempDirectory();
        CacheTestData.WriteAll(temp.Path, CacheTestData.Settings(4), new LogitCacheWriterOptions(ExamplesPerShard: 3));
        var path = Path.Combine(temp.Path, CacheFolder.ManifestFileName);
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node["version"] = 1;
        node.Remove("compute_dtype");
        node.Remove("batch_tokens");
        node["data"]!.AsObject().Remove("size");
        File.WriteAllText(path, node.ToJsonString());

        using var reader = LogitCacheReader.Open(temp.Path);
        reader.Verify();

        Assert.Null(reader.Manifest.ComputeDType);
        Assert.Null(reader.Statistics().ComputeDType);
        Assert.Equal(CacheTestData.Example(3).InputIds, reader.Example(3).InputIds.ToArray());
    }

    [Fact]
    public void FirstDifference_Should_Ignore_Where_The_Data_Was_And_The_Batch_Budget()
    {
        var a = CacheTestData.Settings(5);
        var b = a with { Data = a.Data with { Path = "/mnt/other-node/train.jsonl" }, BatchTokens = 512 };

        Assert.Null(CacheManifest.FirstDifference(a, b));
    }

    [Fact]
    public void FirstDifference_Should_Name_The_Nested_Key_And_Both_Values()
    {
        var a = CacheTestData.Settings(5);

        var hash = CacheManifest.FirstDifference(a, a with { Data = a.Data with { Sha256 = new string('b', 64) } });
        var size = CacheManifest.FirstDifference(a, a with { Data = a.Data with { Size = 4322 } });
        var dtype = CacheManifest.FirstDifference(a, a with { ComputeDType = null });
        var template = CacheManifest.FirstDifference(a, a with { ChatTemplate = new string('x', 500) });

        Assert.Equal(new SettingDifference("data.sha256", $"\"{new string('a', 64)}\"", $"\"{new string('b', 64)}\""), hash);
        Assert.Equal(new SettingDifference("data.size", "4321", "4322"), size);
        Assert.Equal(new SettingDifference("compute_dtype", "\"fp32\"", "(absent)"), dtype);
        Assert.Equal("chat_template", template!.Key);
        Assert.Equal("\"" + new string('x', 79) + "…", template.Second);
    }
}
