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
            ["format", "version", "teacher", "tokenizer_fingerprint", "chat_template", "data", "top_k", "logit_dtype", "max_seq_len", "example_count", "shards"],
            node.Select(p => p.Key));
        Assert.Equal(["config_fingerprint", "weights_fingerprint", "vocab_size"], node["teacher"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["file", "first_example", "example_count", "rows", "tokens", "sha256"], node["shards"]![0]!.AsObject().Select(p => p.Key));
        Assert.Equal("distill-logit-cache", (string?)node["format"]);
        Assert.Equal(json, CacheManifest.Parse(json, "m.json").ToJson());
    }

    [Theory]
    [InlineData("logit_dtype", "\"fp8\"")]
    [InlineData("top_k", "51")]
    [InlineData("version", "2")]
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
}
