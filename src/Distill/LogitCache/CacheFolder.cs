using System.Globalization;
using System.Security.Cryptography;

namespace Distill.LogitCache;

/// <summary>File naming of a cache folder and the merge of slice outputs into one manifest.</summary>
public static class CacheFolder
{
    /// <summary>The manifest of a complete cache.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The part manifest a slice keeps up to date while it writes: <c>manifest.part-I-of-N.json</c>.</summary>
    public static string PartManifestFileName(CacheSlice slice) =>
        string.Create(CultureInfo.InvariantCulture, $"manifest.part-{slice.Index}-of-{slice.Count}.json");

    /// <summary>
    /// Creates <paramref name="directory"/> if needed and proves it writable by creating and deleting a probe file, so a
    /// read-only destination fails before any compute. Returns whether the folder was created here.
    /// </summary>
    /// <exception cref="IOException">Not writable; names the folder and the reason.</exception>
    public static bool CheckWritable(string directory)
    {
        var created = !Directory.Exists(directory);
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".distill-write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"{directory}: the output folder is not writable ({e.Message})", e);
        }
        return created;
    }

    /// <summary>Deletes <paramref name="directory"/> when it holds nothing (a run that failed before writing anything).</summary>
    public static void RemoveIfEmpty(string directory)
    {
        if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any()) Directory.Delete(directory);
    }

    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Combines the part manifests in <paramref name="directory"/> into <c>manifest.json</c> (written atomically) and
    /// deletes the parts. Refuses with <see cref="InvalidDataException"/> naming the example ranges that no part covers,
    /// or the overlapping shards, or the setting on which parts disagree (with both values; the data path and the batch
    /// budget are informational and may differ). With no parts and an existing manifest.json,
    /// returns that manifest unchanged.
    /// </summary>
    public static CacheManifest Merge(string directory)
    {
        var partPaths = Directory.GetFiles(directory, "manifest.part-*-of-*.json").Order(StringComparer.Ordinal).ToArray();
        var manifestPath = Path.Combine(directory, ManifestFileName);
        if (partPaths.Length == 0)
        {
            if (File.Exists(manifestPath)) return CacheManifest.Load(manifestPath);
            throw new InvalidDataException($"{directory}: no part manifests (manifest.part-I-of-N.json) to merge");
        }
        var parts = partPaths.Select(p => (Path: p, Manifest: LoadPart(p))).ToArray();
        var first = parts[0];
        foreach (var (path, manifest) in parts)
        {
            if (manifest.Slice!.Count != first.Manifest.Slice!.Count)
                throw new InvalidDataException($"{path}: slice count {manifest.Slice.Count} differs from {first.Manifest.Slice.Count} in {first.Path}");
            if (CacheManifest.FirstDifference(manifest, first.Manifest) is { } d)
                throw new InvalidDataException($"{path}: key '{d.Key}' is {d.First} but {d.Second} in {first.Path}; the parts come from different runs");
        }
        var shards = parts.SelectMany(p => p.Manifest.Shards).OrderBy(s => s.FirstExample).ToArray();
        CheckCoverage(directory, first.Manifest, parts.Select(p => p.Manifest.Slice!.Index).ToHashSet(), shards);
        // Informational settings may differ between parts: the first part's data path is kept, a batch budget only when all agree.
        var batchTokens = parts.All(p => p.Manifest.BatchTokens == first.Manifest.BatchTokens) ? first.Manifest.BatchTokens : null;
        var merged = first.Manifest.Header with { BatchTokens = batchTokens, Shards = shards };
        merged.Save(manifestPath);
        foreach (var (path, _) in parts) File.Delete(path);
        return merged;
    }

    private static CacheManifest LoadPart(string path)
    {
        var manifest = CacheManifest.Load(path);
        if (manifest.Slice is null || PartManifestFileName(manifest.Slice) != Path.GetFileName(path))
            throw new InvalidDataException($"{path}: key 'slice' is missing or does not match the file name");
        return manifest;
    }

    private static void CheckCoverage(string directory, CacheManifest settings, HashSet<int> present, ShardEntry[] shards)
    {
        var gaps = new List<string>();
        long next = 0;
        for (var i = 0; i < shards.Length; i++)
        {
            var s = shards[i];
            if (s.FirstExample < next)
                throw new InvalidDataException($"{directory}: shards overlap: {shards[i - 1].File} covers examples [{shards[i - 1].FirstExample}, {shards[i - 1].EndExample}) and {s.File} covers [{s.FirstExample}, {s.EndExample})");
            if (s.FirstExample > next) gaps.Add($"[{next}, {s.FirstExample})");
            next = s.EndExample;
        }
        if (next < settings.ExampleCount) gaps.Add($"[{next}, {settings.ExampleCount})");
        if (gaps.Count == 0) return;
        var count = settings.Slice!.Count;
        var absent = Enumerable.Range(0, count).Where(i => !present.Contains(i)).ToArray();
        var note = absent.Length == 0 ? "" : $"; no part manifest for slice(s) {string.Join(", ", absent)} of {count}";
        throw new InvalidDataException($"{directory}: cannot merge: examples {string.Join(", ", gaps)} are missing{note}");
    }
}
