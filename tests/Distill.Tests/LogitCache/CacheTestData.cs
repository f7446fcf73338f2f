using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

/// <summary>Small deterministic caches for the tests, in temp folders.</summary>
internal static class CacheTestData
{
    public const int Vocab = 50;

    public static CacheManifest Settings(long examples, int topK = 3, string dtype = "f32", int maxSeqLen = 64, string computeDType = "fp32") =>
        CacheManifest.Create(new TeacherFingerprint("sha256:config", "sha256:weights", Vocab), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "sha256:tmpl",
            new DataSource("/data/train.jsonl", new string('a', 64), 4321), topK, dtype, maxSeqLen, examples, computeDType, batchTokens: 4096);

    /// <summary>Example <paramref name="index"/> of a fixed pseudo-random dataset: lengths 3..12, ~60 % supervised.</summary>
    public static CacheExample Example(int index, int topK = 3)
    {
        var rng = new Random(1000 + index);
        var length = rng.Next(3, 13);
        var ids = Enumerable.Range(0, length).Select(_ => rng.Next(Vocab)).ToArray();
        var mask = new byte[length];
        for (var j = 1; j < length; j++) mask[j] = (byte)(rng.NextDouble() < 0.6 ? 1 : 0);
        var rows = mask.Count(m => m == 1);
        var topIds = new int[rows * topK];
        var logits = new float[rows * topK];
        var lse = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            var chosen = Enumerable.Range(0, Vocab).OrderBy(_ => rng.Next()).Take(topK).ToArray();
            float value = 0, sum = 0;
            for (var k = 0; k < topK; k++)
            {
                topIds[r * topK + k] = chosen[k];
                logits[r * topK + k] = value;
                sum += MathF.Exp(value);
                value -= (float)(rng.NextDouble() * 2.5);
            }
            lse[r] = MathF.Log(sum) + (float)rng.NextDouble();
        }
        return new CacheExample(ids, mask, topK, topIds, logits, lse);
    }

    public static void WriteAll(string directory, CacheManifest settings, LogitCacheWriterOptions options, CacheSlice? slice = null)
    {
        var writer = LogitCacheWriter.Open(directory, settings, options, slice);
        for (var i = writer.NextExample; i < writer.EndExample; i++) writer.Add(Example((int)i, settings.TopK));
        writer.Complete();
    }

    /// <summary>Independent fp32 → bf16 → fp32 rounding (round to nearest even) for expected values.</summary>
    public static float RoundBf16(float f)
    {
        var bits = BitConverter.SingleToInt32Bits(f);
        var rounded = bits + 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.Int32BitsToSingle(rounded & unchecked((int)0xFFFF0000));
    }

    public static float Round(string dtype, float f) => dtype switch
    {
        "bf16" => RoundBf16(f),
        "f16" => (float)(Half)f,
        _ => f,
    };

    /// <summary>Relative path → bytes of every file in a folder.</summary>
    public static SortedDictionary<string, byte[]> Snapshot(string directory) =>
        new(Directory.GetFiles(directory).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes), StringComparer.Ordinal);

    /// <summary>Rewrites a shard's tensors through <paramref name="change"/> (the checksum in the manifest goes stale).</summary>
    public static void RewriteShard(string path, Func<string, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> change)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, TorchSharp.torch.Tensor>>();
        using (var file = Distill.Tensors.SafetensorsFile.Open(path))
        {
            foreach (var info in file.Tensors) tensors.Add(new(info.Name, change(info.Name, file.Load(info.Name))));
        }
        Distill.Tensors.SafetensorsWriter.Write(path, tensors);
    }

    /// <summary>Records <paramref name="shard"/>'s current SHA-256 in the manifest: bad values that a checksum cannot catch.</summary>
    public static void RecordChecksum(string cacheDir, string shard)
    {
        var manifestPath = Path.Combine(cacheDir, CacheFolder.ManifestFileName);
        var manifest = CacheManifest.Load(manifestPath);
        var entries = manifest.Shards.Select(e => e.File == Path.GetFileName(shard) ? e with { Sha256 = CacheFolder.HashFile(shard) } : e).ToArray();
        (manifest with { Shards = entries }).Save(manifestPath);
    }
}
