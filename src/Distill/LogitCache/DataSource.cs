using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>
/// The source data the cached examples were tokenized from. Its identity is its content (<see cref="Sha256"/> and
/// <see cref="Size"/>), never where it was mounted: slices on machines that see the data at different paths write the
/// same cache.
/// </summary>
/// <param name="Path">
/// Where the run read the data (informational; for a merged cache, the first slice's path). The trainer looks there
/// to detect an edited data file; nothing else opens it.
/// </param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
/// <param name="Size">The file's length in bytes; null in version-1 manifests, which did not record it.</param>
public sealed record DataSource(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("size")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    long? Size = null)
{
    /// <summary>Hashes the file at <paramref name="path"/>, recording <paramref name="path"/> as given.</summary>
    public static DataSource Of(string path) => new(path, CacheFolder.HashFile(path), new FileInfo(path).Length);

    /// <summary>The identity alone (path blanked), for comparing the data of two runs wherever each found it.</summary>
    [JsonIgnore]
    public DataSource Identity => this with { Path = "" };

    /// <summary>
    /// The file now at <see cref="Path"/>, hashed, or null when <see cref="Path"/> is not an absolute path to an existing
    /// file (a cache made on another machine, or imported from several files): then nothing can be compared.
    /// </summary>
    public DataSource? FileAtPath() =>
        System.IO.Path.IsPathFullyQualified(Path) && File.Exists(Path) ? Of(Path) : null;

    /// <summary>True when <paramref name="other"/> has the same SHA-256 and, where both record one, the same size.</summary>
    public bool SameContent(DataSource other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Sha256 == other.Sha256 && (Size is null || other.Size is null || Size == other.Size);
    }
}
