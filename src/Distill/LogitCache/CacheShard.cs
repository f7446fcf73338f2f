using System.Runtime.InteropServices;
using Distill.Tensors;

namespace Distill.LogitCache;

/// <summary>One memory-mapped shard whose tensor names, dtypes, shapes and offsets were checked against its manifest entry.</summary>
internal sealed class CacheShard : IDisposable
{
    private readonly SafetensorsFile _file;
    private readonly long[] _offsets; // [E+1] token offsets, copied once: small and read on every lookup
    private readonly long[] _rowStarts; // [E+1] first row of each example

    private CacheShard(ShardEntry entry, SafetensorsFile file, long[] offsets, long[] rowStarts, SafetensorsDType logitDType, int topK)
    {
        Entry = entry;
        _file = file;
        _offsets = offsets;
        _rowStarts = rowStarts;
        LogitDType = logitDType;
        TopK = topK;
    }

    public ShardEntry Entry { get; }
    public string Path => _file.Path;
    public SafetensorsDType LogitDType { get; }
    public int TopK { get; }

    /// <summary>Maps and checks the shard; <see cref="InvalidDataException"/> names the file and tensor on any mismatch.</summary>
    public static CacheShard Open(string directory, ShardEntry entry, CacheManifest manifest)
    {
        var path = System.IO.Path.Combine(directory, entry.File);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: shard listed in the manifest is missing");
        var file = SafetensorsFile.Open(path);
        try
        {
            var logitDType = LogitDTypes.Parse(manifest.LogitDType);
            CheckTensors(file, entry, manifest.TopK, logitDType);
            var offsets = MemoryMarshal.Cast<byte, long>(file.GetBytes(ShardTensors.ExampleOffsets)).ToArray();
            var rowStarts = CheckOffsetsAndMask(file, entry, offsets, manifest.MaxSeqLen);
            return new CacheShard(entry, file, offsets, rowStarts, logitDType, manifest.TopK);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void CheckTensors(SafetensorsFile file, ShardEntry entry, int topK, SafetensorsDType logitDType)
    {
        var expected = new (string Name, SafetensorsDType DType, long[] Shape)[]
        {
            (ShardTensors.InputIds, SafetensorsDType.I32, [entry.Tokens]),
            (ShardTensors.LossMask, SafetensorsDType.U8, [entry.Tokens]),
            (ShardTensors.ExampleOffsets, SafetensorsDType.I64, [entry.ExampleCount + 1]),
            (ShardTensors.TopKIds, SafetensorsDType.I32, [entry.Rows, topK]),
            (ShardTensors.TopKLogits, logitDType, [entry.Rows, topK]),
            (ShardTensors.LogSumExp, SafetensorsDType.F32, [entry.Rows]),
        };
        foreach (var t in file.Tensors)
            if (!expected.Any(e => e.Name == t.Name)) throw Error(file.Path, t.Name, "unexpected tensor in a logit cache shard");
        foreach (var (name, dtype, shape) in expected)
        {
            if (!file.Contains(name)) throw Error(file.Path, name, "tensor is missing");
            var info = file.Info(name);
            if (info.DType != dtype) throw Error(file.Path, name, $"dtype is {info.DType}, expected {dtype}");
            if (!info.Shape.SequenceEqual(shape))
                throw Error(file.Path, name, $"shape is [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] from the manifest");
        }
    }

    private static long[] CheckOffsetsAndMask(SafetensorsFile file, ShardEntry entry, long[] offsets, int maxSeqLen)
    {
        if (offsets[0] != 0) throw Error(file.Path, ShardTensors.ExampleOffsets, $"starts at {offsets[0]}, expected 0");
        if (offsets[^1] != entry.Tokens) throw Error(file.Path, ShardTensors.ExampleOffsets, $"ends at {offsets[^1]}, expected {entry.Tokens} tokens");
        var mask = file.GetBytes(ShardTensors.LossMask);
        var rowStarts = new long[offsets.Length];
        for (var i = 0; i + 1 < offsets.Length; i++)
        {
            var length = offsets[i + 1] - offsets[i];
            if (length < 1 || length > maxSeqLen || offsets[i + 1] > entry.Tokens)
                throw Error(file.Path, ShardTensors.ExampleOffsets, $"example {i} has {length} tokens (expected 1..{maxSeqLen}: offsets must increase)");
            var error = CacheExample.CheckMask(mask.Slice((int)offsets[i], (int)length), out var rows);
            if (error is not null) throw Error(file.Path, ShardTensors.LossMask, $"example {i}: {error}");
            rowStarts[i + 1] = rowStarts[i] + rows;
        }
        if (rowStarts[^1] != entry.Rows)
            throw Error(file.Path, ShardTensors.LossMask, $"marks {rowStarts[^1]} supervised targets but the shard holds {entry.Rows} rows");
        return rowStarts;
    }

    private static InvalidDataException Error(string path, string tensor, string reason) => new($"{path}: tensor '{tensor}': {reason}");

    /// <summary>The shard row of local example <paramref name="local"/>'s first supervised target.</summary>
    public long FirstRow(int local) => _rowStarts[local];

    /// <summary>A view of local example <paramref name="local"/> over the mapping.</summary>
    public CacheExampleView View(long globalIndex, int local, int width)
    {
        var t0 = (int)_offsets[local];
        var length = (int)(_offsets[local + 1] - _offsets[local]);
        var r0 = (int)_rowStarts[local];
        var rows = (int)(_rowStarts[local + 1] - _rowStarts[local]);
        var elementSize = LogitDTypes.ElementSize(LogitDType);
        return new CacheExampleView(
            globalIndex,
            MemoryMarshal.Cast<byte, int>(_file.GetBytes(ShardTensors.InputIds)).Slice(t0, length),
            _file.GetBytes(ShardTensors.LossMask).Slice(t0, length),
            MemoryMarshal.Cast<byte, int>(_file.GetBytes(ShardTensors.TopKIds)).Slice(r0 * TopK, rows * TopK),
            _file.GetBytes(ShardTensors.TopKLogits).Slice(r0 * TopK * elementSize, rows * TopK * elementSize),
            MemoryMarshal.Cast<byte, float>(_file.GetBytes(ShardTensors.LogSumExp)).Slice(r0, rows),
            TopK, width, LogitDType);
    }

    /// <summary>Rows of the whole shard, for checks and statistics that scan everything.</summary>
    public CacheExampleView AllRows() => new(
        Entry.FirstExample, [], [],
        MemoryMarshal.Cast<byte, int>(_file.GetBytes(ShardTensors.TopKIds)),
        _file.GetBytes(ShardTensors.TopKLogits),
        MemoryMarshal.Cast<byte, float>(_file.GetBytes(ShardTensors.LogSumExp)),
        TopK, TopK, LogitDType);

    public void Dispose() => _file.Dispose();
}
