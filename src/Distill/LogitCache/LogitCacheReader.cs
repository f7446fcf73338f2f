using System.Runtime.InteropServices;
using TorchSharp;

namespace Distill.LogitCache;

/// <summary>
/// Reads a cache folder: validates <c>manifest.json</c>, verifies each shard's SHA-256 (unless told not to), maps every
/// shard and checks its tensors against the manifest. Examples are read by global index as views over the mapped files;
/// <see cref="LoadTopK"/> copies rows into tensors once and checks the value invariants of every row it copies.
/// </summary>
public sealed class LogitCacheReader : IDisposable
{
    private readonly CacheShard[] _shards;
    private readonly long[] _firstExamples;

    private LogitCacheReader(string directory, CacheManifest manifest, CacheShard[] shards)
    {
        Directory = directory;
        Manifest = manifest;
        _shards = shards;
        _firstExamples = shards.Select(s => s.Entry.FirstExample).ToArray();
    }

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary>The validated manifest.</summary>
    public CacheManifest Manifest { get; }

    /// <summary>Examples in the cache.</summary>
    public long ExampleCount => Manifest.ExampleCount;

    /// <summary>K as stored.</summary>
    public int TopK => Manifest.TopK;

    /// <summary>
    /// Opens <paramref name="directory"/>; <see cref="InvalidDataException"/> names the file and the problem. With
    /// <paramref name="verifyChecksums"/> each shard's SHA-256 is compared with the manifest's up front, before the shard is
    /// mapped: one sequential read of the whole cache at open (docs/FORMAT.md, "Verification").
    /// </summary>
    public static LogitCacheReader Open(string directory, bool verifyChecksums = true)
    {
        var manifestPath = Path.Combine(directory, CacheFolder.ManifestFileName);
        if (!File.Exists(manifestPath) && System.IO.Directory.Exists(directory)
            && System.IO.Directory.GetFiles(directory, "manifest.part-*-of-*.json").Length > 0)
            throw new InvalidDataException($"{manifestPath}: missing; the folder holds part manifests of an unfinished or unmerged run (merge the slices once all are complete)");
        var manifest = CacheManifest.Load(manifestPath);
        if (manifest.Slice is not null)
            throw new InvalidDataException($"{manifestPath}: key 'slice' is present: this is a part manifest; merge the slices first");
        var shards = new List<CacheShard>();
        try
        {
            foreach (var entry in manifest.Shards)
            {
                if (verifyChecksums) VerifyChecksum(Path.Combine(directory, entry.File), entry);
                shards.Add(CacheShard.Open(directory, entry, manifest));
            }
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
        return new LogitCacheReader(directory, manifest, shards.ToArray());
    }

    /// <summary>Example <paramref name="index"/> with the first <paramref name="k"/> columns (all K when null).</summary>
    public CacheExampleView Example(long index, int? k = null)
    {
        if (index < 0 || index >= ExampleCount)
            throw new ArgumentOutOfRangeException(nameof(index), $"example {index} is outside [0, {ExampleCount})");
        var (shard, local) = Locate(index);
        return shard.View(index, local, k ?? TopK);
    }

    private (CacheShard Shard, int Local) Locate(long index)
    {
        var s = Array.BinarySearch(_firstExamples, index);
        if (s < 0) s = ~s - 1;
        var shard = _shards[s];
        return (shard, (int)(index - shard.Entry.FirstExample));
    }

    /// <summary>
    /// The rows of <paramref name="examples"/> (in that order) narrowed to <paramref name="k"/> columns, copied once from
    /// the mapping into new tensors in the stored dtypes (ids int32, logits f32/bf16/f16: the losses widen them on the
    /// device, where a bf16 cache's rows move half the bytes). Every copied row is checked
    /// (<see cref="CacheExample.CheckRow"/>, ids against the manifest's teacher vocabulary) while it is still on the host,
    /// so the check costs no device sync; <see cref="InvalidDataException"/> names the shard, its row and the example.
    /// </summary>
    public TopKBatch LoadTopK(IReadOnlyList<long> examples, int? k = null)
    {
        var width = k ?? TopK;
        var counts = new int[examples.Count];
        long total = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            counts[i] = Example(examples[i], width).Rows;
            total += counts[i];
        }
        var logitDType = LogitDTypes.Parse(Manifest.LogitDType);
        var size = LogitDTypes.ElementSize(logitDType);
        using var scope = torch.NewDisposeScope();
        var ids = torch.empty([total, width], torch.ScalarType.Int32);
        var logits = torch.empty([total, width], Tensors.DTypes.ToTorch(logitDType));
        var lse = torch.empty([total], torch.ScalarType.Float32);
        var idSpan = MemoryMarshal.Cast<byte, int>(ids.bytes);
        var logitBytes = logits.bytes;
        var lseSpan = MemoryMarshal.Cast<byte, float>(lse.bytes);
        var decoded = new float[width];                                  // one row as fp32, for the check only
        var row = 0;
        foreach (var index in examples)
        {
            var (shard, local) = Locate(index);
            var view = shard.View(index, local, width);
            for (var r = 0; r < view.Rows; r++, row++)
            {
                var source = view.RowIds(r);
                source.CopyTo(idSpan.Slice(row * width, width));
                view.RowLogitBytes(r).CopyTo(logitBytes.Slice(row * width * size, width * size));
                view.RowLogits(r, decoded);
                var problem = CacheExample.CheckRow(source, decoded, view.LogSumExp[r], Manifest.Teacher.VocabSize);
                if (problem is not null)
                    throw new InvalidDataException($"{shard.Path}: row {shard.FirstRow(local) + r} (example {index}): {problem}");
            }
            view.LogSumExp.CopyTo(lseSpan[(row - view.Rows)..]);
        }
        return new TopKBatch(ids.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope(), lse.MoveToOuterDisposeScope(), counts);
    }

    /// <summary>
    /// Full verification: every shard's SHA-256 against the manifest, then every row's invariants (column 0 is 0,
    /// logits finite and descending, ids inside the teacher vocabulary, log-sum-exp finite and ≥ 0).
    /// </summary>
    /// <exception cref="InvalidDataException">Names the file and, for row problems, the row.</exception>
    public void Verify()
    {
        foreach (var shard in _shards) VerifyChecksum(shard.Path, shard.Entry);
        VerifyRows();
    }

    /// <summary>Every row's invariants, as <see cref="Verify"/> checks them, without the checksums.</summary>
    /// <exception cref="InvalidDataException">Names the file and the row.</exception>
    public void VerifyRows()
    {
        foreach (var shard in _shards) VerifyRows(shard);
    }

    private static void VerifyChecksum(string path, ShardEntry entry)
    {
        if (!File.Exists(path)) return; // CacheShard.Open names a missing shard
        var actual = CacheFolder.HashFile(path);
        if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: checksum mismatch: sha256 is {actual}, the manifest records {entry.Sha256}; the shard is corrupt or was changed after it was written");
    }

    // Row by row, so verifying a 1 GiB shard needs K floats of scratch, not a copy of the shard.
    private void VerifyRows(CacheShard shard)
    {
        var view = shard.AllRows();
        var logits = new float[TopK];
        for (var r = 0; r < view.Rows; r++)
        {
            view.RowLogits(r, logits);
            var error = CacheExample.CheckRow(view.RowIds(r), logits, view.LogSumExp[r], Manifest.Teacher.VocabSize);
            if (error is not null) throw new InvalidDataException($"{shard.Path}: row {r}: {error}");
        }
    }

    /// <summary>Scans all rows once; see <see cref="CacheStatistics"/> for exactly what is computed.</summary>
    public CacheStatistics Statistics() => StatisticsCalculator.Compute(Manifest, _shards);

    /// <summary>Unmaps all shards; views taken from this reader must not be used afterwards.</summary>
    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }
}
