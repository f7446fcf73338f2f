using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

namespace Distill.Tensors;

/// <summary>Writes safetensors files that Hugging Face's safetensors library (and <see cref="SafetensorsFile"/>) read back bit for bit.</summary>
public static class SafetensorsWriter
{
    private const int Alignment = 8;

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order, each as a contiguous CPU copy, with <paramref name="metadata"/>
    /// under <c>__metadata__</c>. The header is padded with spaces so the data buffer starts 8-byte aligned.
    /// The file is written to <c>path + ".tmp"</c> and renamed over <paramref name="path"/> only when complete;
    /// on failure the temporary file is deleted and nothing appears under <paramref name="path"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Duplicate tensor names, or a tensor named <c>__metadata__</c>.</exception>
    /// <exception cref="NotSupportedException">A tensor dtype safetensors cannot store (complex, quantized).</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = Collect(tensors);
        var header = BuildHeader(path, entries, metadata);
        var temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var (_, tensor, _) in entries) WriteData(tensor, stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    // Called while another exception is in flight: that one explains the failure, so a failed cleanup must not replace it.
    private static void DeleteQuietly(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
    }

    private static List<(string Name, torch.Tensor Tensor, SafetensorsDType DType)> Collect(IEnumerable<KeyValuePair<string, torch.Tensor>> tensors)
    {
        var entries = new List<(string, torch.Tensor, SafetensorsDType)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved for metadata and cannot name a tensor", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(tensors));
            SafetensorsDType dtype;
            try
            {
                dtype = DTypes.FromTorch(tensor.dtype);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException($"tensor '{name}': {e.Message}", e);
            }
            entries.Add((name, tensor, dtype));
        }
        return entries;
    }

    private static byte[] BuildHeader(string path, List<(string Name, torch.Tensor Tensor, SafetensorsDType DType)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the output is still strict JSON.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor, dtype) in entries)
            {
                var bytes = checked(tensor.NumberOfElements * DTypes.ElementSize(dtype));
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }

        var padded = (buffer.WrittenCount + Alignment - 1) / Alignment * Alignment;
        if (padded > SafetensorsHeader.MaxHeaderBytes)
            throw new ArgumentException($"'{path}': header of {padded} bytes exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit readers accept");
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(torch.Tensor tensor, Stream stream)
    {
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        TensorBytes.WriteTo(cpu, stream);
    }
}
