using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>The source data file the cached examples were tokenized from.</summary>
/// <param name="Path">The path as given by the user (informational; never opened by the reader).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
public sealed record DataSource(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("sha256")] string Sha256);
