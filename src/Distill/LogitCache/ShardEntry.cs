using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>One shard file of a cache: examples [FirstExample, FirstExample + ExampleCount).</summary>
/// <param name="File">File name relative to the cache folder.</param>
/// <param name="FirstExample">Global index of the shard's first example.</param>
/// <param name="ExampleCount">Examples in the shard (E).</param>
/// <param name="Rows">Supervised rows in the shard (R).</param>
/// <param name="Tokens">Tokens in the shard (T).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the whole shard file.</param>
public sealed record ShardEntry(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("first_example")] long FirstExample,
    [property: JsonPropertyName("example_count")] long ExampleCount,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("sha256")] string Sha256)
{
    /// <summary>One past the shard's last global example index.</summary>
    [JsonIgnore]
    public long EndExample => FirstExample + ExampleCount;
}
