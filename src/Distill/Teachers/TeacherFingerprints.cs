using System.Security.Cryptography;
using System.Text;
using Distill.LogitCache;
using Distill.Models;
using Distill.Tensors;

namespace Distill.Teachers;

/// <summary>
/// Fingerprints of a Hugging Face teacher folder for the cache manifest. The config fingerprint is the SHA-256 of
/// config.json's bytes. The weights fingerprint is cheap rather than complete — reading a 100 GB teacher twice would
/// cost minutes — : the SHA-256, over every <c>*.safetensors</c> file in name order, of its name, its size, its whole
/// header and the first and last MiB of its tensor data. A different checkpoint changes the header, the size or the
/// sampled bytes (fine-tuning changes every tensor); an edit confined to the middle of a file goes unnoticed.
/// </summary>
public static class TeacherFingerprints
{
    private const int SampleBytes = 1 << 20;

    /// <summary>The teacher's fingerprint: config and weights hashes ("sha256:…") and the vocabulary size of its config.</summary>
    /// <exception cref="InvalidDataException">No config.json or no safetensors file, or a truncated header; names the file.</exception>
    public static TeacherFingerprint Compute(string teacherDir)
    {
        var configPath = Path.Combine(teacherDir, "config.json");
        var config = LlamaConfig.Load(configPath);
        return new TeacherFingerprint(Config(teacherDir), Weights(teacherDir), config.VocabSize);
    }

    /// <summary>"sha256:" + the hex SHA-256 of config.json.</summary>
    public static string Config(string teacherDir)
    {
        var path = Path.Combine(teacherDir, "config.json");
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: not found");
        return "sha256:" + CacheFolder.HashFile(path);
    }

    /// <summary>"sha256:" + the hex SHA-256 of the sampled weight files (see the type's remarks).</summary>
    public static string Weights(string teacherDir)
    {
        var files = Directory.GetFiles(teacherDir, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new InvalidDataException($"{teacherDir}: no *.safetensors weight file");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in files) AppendFile(hash, path);
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void AppendFile(IncrementalHash hash, string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = stream.Length;
        hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(path) + "\n" + length + "\n"));
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || stream.Read(prefix) != 8) throw new InvalidDataException($"{path}: shorter than a safetensors header");
        var headerLength = SafetensorsHeader.CheckLength(path, prefix, length);
        hash.AppendData(prefix);
        AppendRange(hash, stream, 8, headerLength);
        var dataStart = 8 + headerLength;
        var dataLength = length - dataStart;
        AppendRange(hash, stream, dataStart, Math.Min(SampleBytes, dataLength));
        if (dataLength > SampleBytes) AppendRange(hash, stream, length - Math.Min(SampleBytes, dataLength - SampleBytes), Math.Min(SampleBytes, dataLength - SampleBytes));
    }

    private static void AppendRange(IncrementalHash hash, FileStream stream, long offset, long count)
    {
        stream.Position = offset;
        var buffer = new byte[Math.Min(count, SampleBytes)];
        while (count > 0)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0) throw new InvalidDataException($"{stream.Name}: ends early at byte {stream.Position}");
            hash.AppendData(buffer, 0, read);
            count -= read;
        }
    }
}
