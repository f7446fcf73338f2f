using Distill.Tensors;

namespace Distill.LogitCache;

/// <summary>
/// Writes one slice of a cache (the whole cache by default), in example order. Each finished shard is written under a
/// temp name and renamed, then recorded with its SHA-256 in the slice's part manifest (saved atomically), so a killed run
/// reopened with <see cref="Open"/> resumes at <see cref="NextExample"/> and ends byte-identical to an uninterrupted run.
/// A whole-cache writer turns its part manifest into <c>manifest.json</c> on <see cref="Complete"/>; slices are combined
/// with <see cref="CacheFolder.Merge"/>.
/// </summary>
public sealed class LogitCacheWriter
{
    private readonly string _directory;
    private readonly CacheManifest _settings;
    private readonly LogitCacheWriterOptions _options;
    private readonly CacheSlice _slice;
    private readonly SafetensorsDType _logitDType;
    private readonly List<ShardEntry> _complete;
    private readonly List<CacheExample> _pending = [];
    private long _pendingBytes;

    private LogitCacheWriter(string directory, CacheManifest settings, LogitCacheWriterOptions options, CacheSlice slice, List<ShardEntry> complete)
    {
        _directory = directory;
        _settings = settings.Header;
        _options = options;
        _slice = slice;
        _logitDType = LogitDTypes.Parse(settings.LogitDType);
        _complete = complete;
        (FirstExample, EndExample) = slice.Range(settings.ExampleCount, options.ExamplesPerShard);
        NextExample = complete.Count > 0 ? complete[^1].EndExample : FirstExample;
    }

    /// <summary>First global example index of this slice.</summary>
    public long FirstExample { get; }

    /// <summary>One past the last global example index of this slice.</summary>
    public long EndExample { get; }

    /// <summary>The global index of the example <see cref="Add"/> expects next; after a resume, the first example not yet in a complete shard.</summary>
    public long NextExample { get; private set; }

    /// <summary>Shards already complete on disk (from earlier runs included).</summary>
    public IReadOnlyList<ShardEntry> CompletedShards => _complete;

    /// <summary>
    /// Opens a writer for <paramref name="slice"/> of the cache described by <paramref name="settings"/> (its shards are
    /// ignored). Resumes from the slice's part manifest when one exists: complete shards whose checksum still matches are
    /// kept, the rest (and stale temp files of this slice) are redone.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The existing part manifest was written with different settings (names the key and both values); the informational
    /// data path and batch budget may differ.
    /// </exception>
    public static LogitCacheWriter Open(string directory, CacheManifest settings, LogitCacheWriterOptions? options = null, CacheSlice? slice = null)
    {
        options ??= new LogitCacheWriterOptions();
        slice ??= CacheSlice.Whole;
        options.Validate();
        var error = (settings.Header with { Slice = slice }).FindProblem();
        if (error is not null) throw new ArgumentException($"cache settings: {error}", nameof(settings));
        Directory.CreateDirectory(directory);
        var (first, end) = slice.Range(settings.ExampleCount, options.ExamplesPerShard);
        var (complete, earlier) = Resume(directory, settings, slice, first, end);
        // Kept shards computed under another batch budget: the budget is no longer one number for the whole slice.
        if (complete.Count > 0 && earlier!.BatchTokens != settings.BatchTokens) settings = settings with { BatchTokens = null };
        var writer = new LogitCacheWriter(directory, settings, options, slice, complete);
        writer.DeleteStaleTempFiles();
        return writer;
    }

    // The complete shards to keep, and the manifest they were listed in.
    private static (List<ShardEntry> Kept, CacheManifest? Existing) Resume(string directory, CacheManifest settings, CacheSlice slice, long first, long end)
    {
        var partPath = Path.Combine(directory, CacheFolder.PartManifestFileName(slice));
        var finalPath = Path.Combine(directory, CacheFolder.ManifestFileName);
        string? existingPath = File.Exists(partPath) ? partPath : slice == CacheSlice.Whole && File.Exists(finalPath) ? finalPath : null;
        if (existingPath is null) return ([], null);
        var existing = CacheManifest.Load(existingPath);
        if (CacheManifest.FirstDifference(existing, settings) is { } d)
            throw new InvalidDataException($"{existingPath}: key '{d.Key}' is {d.First} but this run has {d.Second}; use another folder or delete it");
        if (existing.Slice is not null && existing.Slice != slice)
            throw new InvalidDataException($"{existingPath}: key 'slice' is {existing.Slice.Index}/{existing.Slice.Count}, expected {slice.Index}/{slice.Count}");
        var kept = new List<ShardEntry>();
        foreach (var shard in existing.Shards)
        {
            var path = Path.Combine(directory, shard.File);
            var expected = kept.Count > 0 ? kept[^1].EndExample : first;
            // A shard from another grid (changed examples_per_shard) or a damaged file ends the resumable prefix.
            if (shard.FirstExample != expected || shard.EndExample > end) break;
            if (!File.Exists(path) || CacheFolder.HashFile(path) != shard.Sha256) break;
            kept.Add(shard);
        }
        return (kept, existing);
    }

    // Only this slice's temp files: other slices may be writing into the same folder right now.
    private void DeleteStaleTempFiles()
    {
        foreach (var path in Directory.GetFiles(_directory, "shard-*.safetensors.tmp"))
        {
            var parts = Path.GetFileName(path).Split('-', '.');
            if (parts.Length > 2 && long.TryParse(parts[1], out var first) && first >= FirstExample && first < EndExample)
                File.Delete(path);
        }
        var partTemp = Path.Combine(_directory, CacheFolder.PartManifestFileName(_slice) + ".tmp");
        if (File.Exists(partTemp)) File.Delete(partTemp);
    }

    /// <summary>Appends example <see cref="NextExample"/>; writes a shard when a grid line or the byte budget is reached.</summary>
    public void Add(CacheExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (NextExample >= EndExample)
            throw new InvalidOperationException($"slice {_slice.Index}/{_slice.Count} ends at example {EndExample}; no more examples fit");
        if (example.TopK != _settings.TopK)
            throw new ArgumentException($"example {NextExample}: top_k is {example.TopK}, the cache holds {_settings.TopK}", nameof(example));
        if (example.InputIds.Length > _settings.MaxSeqLen)
            throw new ArgumentException($"example {NextExample}: {example.InputIds.Length} tokens exceed max_seq_len {_settings.MaxSeqLen}", nameof(example));
        var badId = Array.FindIndex(example.TopKIds, id => id >= _settings.Teacher.VocabSize);
        if (badId >= 0)
            throw new ArgumentException($"example {NextExample}: topk id {example.TopKIds[badId]} is outside the teacher vocabulary of {_settings.Teacher.VocabSize}", nameof(example));

        var bytes = ShardTensors.DataBytes(example, LogitDTypes.ElementSize(_logitDType));
        if (_pending.Count > 0 && _pendingBytes + bytes > _options.MaxShardBytes) Flush();
        _pending.Add(example);
        _pendingBytes += bytes;
        NextExample++;
        if (NextExample % _options.ExamplesPerShard == 0 || NextExample == EndExample) Flush();
    }

    /// <summary>
    /// Finishes the slice and returns its manifest: for the whole cache, <c>manifest.json</c> (the part manifest is removed);
    /// for a slice, its part manifest.
    /// </summary>
    /// <exception cref="InvalidOperationException">Examples of the slice were never added.</exception>
    public CacheManifest Complete()
    {
        if (NextExample != EndExample)
            throw new InvalidOperationException($"examples [{NextExample}, {EndExample}) of slice {_slice.Index}/{_slice.Count} were never added");
        if (_slice != CacheSlice.Whole) return SavePart();
        var manifest = _settings with { Shards = _complete.ToArray() };
        manifest.Save(Path.Combine(_directory, CacheFolder.ManifestFileName));
        var part = Path.Combine(_directory, CacheFolder.PartManifestFileName(_slice));
        if (File.Exists(part)) File.Delete(part);
        return manifest;
    }

    private void Flush()
    {
        var first = NextExample - _pending.Count;
        var name = ShardTensors.FileName(first, NextExample);
        var path = Path.Combine(_directory, name);
        var (rows, tokens) = ShardTensors.Write(path, _pending, _settings.TopK, _logitDType);
        _complete.Add(new ShardEntry(name, first, _pending.Count, rows, tokens, CacheFolder.HashFile(path)));
        _pending.Clear();
        _pendingBytes = 0;
        SavePart();
    }

    private CacheManifest SavePart()
    {
        var part = _settings with { Slice = _slice, Shards = _complete.ToArray() };
        part.Save(Path.Combine(_directory, CacheFolder.PartManifestFileName(_slice)));
        return part;
    }
}
