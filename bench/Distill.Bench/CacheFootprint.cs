using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.LogitCache;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// The logit cache's size and read speed on a synthetic cache (200 examples × 512 tokens, about half supervised,
/// K = 100): bytes per supervised token with f32 and bf16 logits and for the NeMo-Aligner JSONL export of the same
/// examples, and rows/s of <see cref="LogitCacheReader.LoadTopK"/> for micro-batches of random examples and of
/// consecutive ones (rows copied into int64/float32 tensors, as the trainer consumes them).
/// </summary>
internal static class CacheFootprint
{
    private const int Examples = 200, Tokens = 512, TopK = 100, VocabSize = 32_000, BatchExamples = 8, RandomBatches = 100, SequentialPasses = 4;

    public static JsonNode Run(JsonObject peak)
    {
        string root = Directory.CreateTempSubdirectory("distill-bench-cache-").FullName;
        try
        {
            return Measure(root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static JsonObject Measure(string root)
    {
        var examples = SyntheticCacheExamples.Make(Examples, Tokens, TopK, VocabSize, seed: 7);
        long supervised = examples.Sum(e => (long)e.Rows);
        var result = new JsonObject
        {
            ["examples"] = Examples,
            ["tokens_per_example"] = Tokens,
            ["top_k"] = TopK,
            ["supervised_tokens"] = supervised,
            ["batch_examples"] = BatchExamples,
        };
        var bytesPerToken = new Dictionary<string, double>();
        foreach (string dtype in new[] { "f32", "bf16" })
        {
            string folder = Path.Combine(root, dtype);
            Write(folder, examples, dtype);
            bytesPerToken[dtype] = FolderBytes(folder) / (double)supervised;
            using var reader = LogitCacheReader.Open(folder);
            result[dtype] = new JsonObject
            {
                ["bytes"] = FolderBytes(folder),
                ["bytes_per_supervised_token"] = bytesPerToken[dtype],
                ["random_rows_per_s"] = RowsPerSecond(reader, RandomBatchList(new Random(11))),
                ["sequential_rows_per_s"] = RowsPerSecond(reader, SequentialBatchList()),
            };
        }

        using (var reader = LogitCacheReader.Open(Path.Combine(root, "f32")))
        {
            string nemo = Path.Combine(root, "nemo");
            long start = Stopwatch.GetTimestamp();
            NemoJsonl.Export(reader, nemo, "bench", chunkCount: 1, padId: 0);
            double exportSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            double nemoPerToken = FolderBytes(nemo) / (double)supervised;
            result["nemo_jsonl"] = new JsonObject
            {
                ["bytes"] = FolderBytes(nemo),
                ["bytes_per_supervised_token"] = nemoPerToken,
                ["export_seconds"] = exportSeconds,
                ["ratio_to_f32"] = nemoPerToken / bytesPerToken["f32"],
                ["ratio_to_bf16"] = nemoPerToken / bytesPerToken["bf16"],
            };
        }
        return result;
    }

    private static void Write(string folder, List<CacheExample> examples, string dtype)
    {
        var settings = CacheManifest.Create(new TeacherFingerprint("sha256:bench-config", "sha256:bench-weights", VocabSize),
            "sha256:" + new string('b', 64), "", new DataSource("synthetic", new string('0', 64)), TopK, dtype, Tokens, examples.Count);
        var writer = LogitCacheWriter.Open(folder, settings);
        foreach (var example in examples) writer.Add(example);
        writer.Complete();
    }

    private static long FolderBytes(string folder) =>
        Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);

    private static List<long[]> RandomBatchList(Random random) =>
        Enumerable.Range(0, RandomBatches)
            .Select(_ => Enumerable.Range(0, BatchExamples).Select(_ => (long)random.Next(Examples)).ToArray())
            .ToList();

    /// <summary>The cache front to back, <see cref="SequentialPasses"/> times, so a timed run reads as many examples as the random one.</summary>
    private static List<long[]> SequentialBatchList() =>
        Enumerable.Range(0, SequentialPasses * Examples / BatchExamples)
            .Select(b => Enumerable.Range(b * BatchExamples % Examples, BatchExamples).Select(i => (long)i).ToArray())
            .ToList();

    private static double RowsPerSecond(LogitCacheReader reader, List<long[]> batches)
    {
        long rows = 0;
        foreach (var batch in batches)
            foreach (long index in batch) rows += reader.Example(index).Rows;
        double seconds = Stopwatches.MedianSeconds(() =>
        {
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                reader.LoadTopK(batch);
            }
        }, warmup: 1, runs: 7);
        return rows / seconds;
    }
}
