using System.Globalization;
using Distill.LogitCache;

namespace Distill.Training;

/// <summary>
/// Catches a logit cache that is stale because its data file was edited after the cache was written. The cache holds the
/// tokenized examples itself, so a cache whose data file is not on this machine (made on another one, or the data moved)
/// trains as it is; only a file found at the recorded path with other content is refused.
/// </summary>
public static class CacheDataCheck
{
    /// <summary>Compares the file at the manifest's <c>data.path</c>, when there is one, with the recorded hash and size.</summary>
    /// <returns>A one-line note when the data file could not be checked, otherwise null.</returns>
    /// <exception cref="InvalidDataException">The file at the recorded path has other content; names both hashes.</exception>
    public static string? Check(CacheExampleSource cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var recorded = cache.Manifest.Data;
        var current = recorded.FileAtPath();
        if (current is null)
            return $"{cache.Name}: its data file ({recorded.Path}) is not here to compare with; training from the cache as it is";
        if (recorded.SameContent(current)) return null;
        throw new InvalidDataException(
            $"{cache.Name}: the data file {recorded.Path} has changed since the cache was written " +
            $"(data.sha256 {recorded.Sha256}{Bytes(recorded.Size)} in the manifest, the file now has sha256 {current.Sha256}{Bytes(current.Size)}); " +
            "rerun distill topk on it into a new folder, or move the file away to train on the cache as it is");
    }

    private static string Bytes(long? size) => size is { } n ? string.Create(CultureInfo.InvariantCulture, $", {n} bytes") : "";
}
