using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace Distill.Tensors;

/// <summary>
/// A read-only, memory-mapped safetensors file. <see cref="Open"/> validates the whole header before anything is
/// exposed; tensor bytes are read straight from the mapping, never copied into managed memory.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private const int LengthPrefixBytes = 8;

    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _buffer; // first byte of the data buffer (after the header)
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile mapping, MemoryMappedViewAccessor view, byte* buffer, SafetensorsHeader header)
    {
        Path = path;
        _mapping = mapping;
        _view = view;
        _buffer = buffer;
        Tensors = header.Tensors;
        Metadata = header.Metadata;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>The string map stored under <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors, ordered by their data offsets.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Maps <paramref name="path"/> read-only and validates its header.</summary>
    /// <exception cref="InvalidDataException">Malformed file; the message names the file, the tensor when one applies, and the reason.</exception>
    public static SafetensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            var fileLength = stream.Length;
            if (fileLength < LengthPrefixBytes)
                throw SafetensorsHeader.Error(path, null, $"file is {fileLength} bytes, shorter than the 8-byte header length");
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mapping.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            acquired = true;
            start += view.PointerOffset;

            var (header, headerBytes) = ReadHeader(path, start, fileLength);
            return new SafetensorsFile(path, mapping, view, start + LengthPrefixBytes + headerBytes, header);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (mapping is null) stream.Dispose();
            else mapping.Dispose();
            throw;
        }
    }

    private static (SafetensorsHeader Header, long HeaderBytes) ReadHeader(string path, byte* start, long fileLength)
    {
        var headerBytes = SafetensorsHeader.CheckLength(path, new ReadOnlySpan<byte>(start, LengthPrefixBytes), fileLength);

        // Bounded by MaxHeaderBytes above; JsonDocument needs managed memory.
        var json = new ReadOnlySpan<byte>(start + LengthPrefixBytes, (int)headerBytes).ToArray();
        var header = SafetensorsHeader.Parse(path, json, fileLength - LengthPrefixBytes - headerBytes);
        return (header, headerBytes);
    }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">No such tensor in this file.</exception>
    public SafetensorsTensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw SafetensorsHeader.Error(Path, name, "no such tensor in the file");

    /// <summary>The tensor's raw little-endian bytes as a view over the mapping; valid until this file is disposed.</summary>
    /// <exception cref="NotSupportedException">Tensors over 2 GiB, which a span cannot cover; use <see cref="Load"/>.</exception>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = Info(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength > int.MaxValue)
            throw new NotSupportedException($"safetensors file '{Path}', tensor '{name}': {info.ByteLength} bytes do not fit in a span; use Load");
        return new ReadOnlySpan<byte>(_buffer + info.Begin, (int)info.ByteLength);
    }

    /// <summary>
    /// Copies the tensor from the mapping into a new tensor (one copy), then converts it to <paramref name="dtype"/>
    /// and moves it to <paramref name="device"/> when given.
    /// </summary>
    /// <exception cref="NotSupportedException">U16, U32 and U64 tensors, which TorchSharp cannot hold.</exception>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        var info = Info(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        torch.ScalarType stored;
        try
        {
            stored = DTypes.ToTorch(info.DType);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"safetensors file '{Path}', tensor '{name}': {e.Message}", e);
        }

        using var scope = torch.NewDisposeScope();
        var tensor = torch.empty(info.Shape, stored);
        TensorBytes.CopyInto(tensor, (IntPtr)(_buffer + info.Begin), info.ByteLength);
        if (dtype is { } target && target != stored) tensor = tensor.to_type(target);
        if (device is not null) tensor = tensor.to(device);
        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Unmaps the file; spans from <see cref="GetBytes"/> must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mapping.Dispose();
    }
}
