using System.Security.Cryptography;
using System.Text;

namespace Distill.Training;

/// <summary>
/// A short name for exactly what a run trains on, kept in each checkpoint so that <c>resume</c> on other data is refused
/// instead of silently continuing with another data order over other examples.
/// </summary>
public static class DataIdentity
{
    /// <summary>
    /// A logit cache: the SHA-256 of its manifest's <see cref="LogitCache.CacheManifest.Identity"/> (teacher, tokenizer,
    /// template, data hash, K, dtypes: the settings that make its bytes what they are; shard checksums are verified at
    /// open). Examples held in memory (JSONL): the SHA-256 of their token ids and masks, after tokenization and
    /// truncation, so another file, template, supervise or max_seq_len is another identity.
    /// </summary>
    public static string Of(IExampleSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source is CacheExampleSource cache)
            return "cache:sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(cache.Manifest.Identity.ToJson())));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        for (long i = 0; i < source.Count; i++)
        {
            var e = source.Example(i);
            BitConverter.TryWriteBytes(length, e.InputIds.Length);
            hash.AppendData(length);
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.InputIds.AsSpan()));
            hash.AppendData(e.LossMask);
        }
        return "examples:sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
