using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Distill.Text.Tokenization;
using Microsoft.ML.Tokenizers;

namespace Distill.Bench;

/// <summary>
/// Single-thread encoding throughput of <see cref="HfTokenizer"/> on a Llama-3-style byte-level BPE of ~32k
/// tokens trained here on generated English-like text, over ~10 MB of held-out generated text split into
/// documents. Cold is the first pass of a freshly loaded tokenizer (empty word cache, code already jitted),
/// warm the median of later passes. The reference is Microsoft.ML.Tokenizers' TiktokenTokenizer built from
/// the same ranks and regex, timed the same way; both must produce identical ids. MB are 10^6 UTF-8 bytes.
/// Per-CPU-second figures divide by the process's CPU time instead of the wall clock (see <see cref="Timed"/>).
/// </summary>
internal static class TokenizeThroughput
{
    private const int TargetVocab = 32_000;
    private const long TrainChars = 12_000_000;
    private const long HeldOutChars = 10_000_000;
    private const double TargetMBps = 10;

    public static JsonNode Run(JsonObject peak)
    {
        string folder = Directory.CreateTempSubdirectory("distill-bench-tokenize-").FullName;
        try
        {
            return Measure(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static JsonObject Measure(string folder)
    {
        long start = Stopwatch.GetTimestamp();
        var tokens = BpeTrainer.Train(new EnglishText(seed: 1).Documents(TrainChars), TargetVocab);
        double trainSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int merges = ByteLevelTokenizerFiles.WriteTokenizerJson(folder, tokens);

        start = Stopwatch.GetTimestamp();
        var jitWarmer = HfTokenizer.Load(folder);
        double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        EncodeAll(jitWarmer, new EnglishText(seed: 3).Documents(300_000));

        var documents = new EnglishText(seed: 2).Documents(HeldOutChars);
        double megabytes = documents.Sum(d => System.Text.Encoding.UTF8.GetByteCount(d)) / 1e6;
        var ours = HfTokenizer.Load(folder);
        start = Stopwatch.GetTimestamp();
        long tokenCount = EncodeAll(ours, documents);
        double coldSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (warmSeconds, warmCpuSeconds) = Timed(() => EncodeAll(ours, documents));

        var reference = Reference(tokens);
        var referenceJitWarmer = Reference(tokens);
        EncodeAll(referenceJitWarmer, new EnglishText(seed: 3).Documents(300_000));
        start = Stopwatch.GetTimestamp();
        EncodeAll(reference, documents);
        double referenceColdSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (referenceWarmSeconds, referenceWarmCpuSeconds) = Timed(() => EncodeAll(reference, documents));
        int mismatches = documents.Count(d => !ours.Encode(d, addSpecialTokens: false).Ids.SequenceEqual(reference.EncodeToIds(d)));

        double warmMBps = megabytes / warmSeconds;
        return new JsonObject
        {
            ["vocab_size"] = ours.VocabSize,
            ["merges"] = merges,
            ["train_text_mb"] = TrainChars / 1e6,
            ["train_seconds"] = trainSeconds,
            ["load_seconds"] = loadSeconds,
            ["text_mb"] = megabytes,
            ["documents"] = documents.Count,
            ["tokens"] = tokenCount,
            ["bytes_per_token"] = megabytes * 1e6 / tokenCount,
            ["cold_mb_per_s"] = megabytes / coldSeconds,
            ["warm_mb_per_s"] = warmMBps,
            ["warm_tokens_per_s"] = tokenCount / warmSeconds,
            ["warm_mb_per_cpu_s"] = megabytes / warmCpuSeconds,
            ["reference"] = new JsonObject
            {
                ["name"] = "Microsoft.ML.Tokenizers TiktokenTokenizer (default cache)",
                ["cold_mb_per_s"] = megabytes / referenceColdSeconds,
                ["warm_mb_per_s"] = megabytes / referenceWarmSeconds,
                ["warm_tokens_per_s"] = tokenCount / referenceWarmSeconds,
                ["warm_mb_per_cpu_s"] = megabytes / referenceWarmCpuSeconds,
            },
            ["warm_ratio_ours_to_reference"] = referenceWarmSeconds / warmSeconds,
            ["cold_ratio_ours_to_reference"] = referenceColdSeconds / coldSeconds,
            ["ids_identical"] = mismatches == 0,
            ["mismatched_documents"] = mismatches,
            ["meets_10MBps_target"] = warmMBps >= TargetMBps,
            ["meets_10MBps_target_per_cpu_s"] = megabytes / warmCpuSeconds >= TargetMBps,
        };
    }

    /// <summary>
    /// Median wall-clock seconds of three passes, and the process's mean CPU seconds per pass: on a shared,
    /// overloaded machine the wall clock also counts time the thread waited for a core, the CPU time does not.
    /// </summary>
    private static (double Seconds, double CpuSeconds) Timed(Action pass)
    {
        const int runs = 3;
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        double seconds = Stopwatches.MedianSeconds(pass, warmup: 0, runs: runs);
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds / runs;
        return (seconds, cpuSeconds);
    }

    private static TiktokenTokenizer Reference(List<byte[]> tokens)
    {
        var specials = ByteLevelTokenizerFiles.SpecialTokens(tokens.Count).ToDictionary(s => s.Content, s => s.Id);
        var regex = new Regex(BpeTrainer.Llama3Regex, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        using var ranks = new MemoryStream(ByteLevelTokenizerFiles.TiktokenRanks(tokens));
        return TiktokenTokenizer.Create(ranks, new RegexPreTokenizer(regex, specials), normalizer: null, specials);
    }

    private static long EncodeAll(HfTokenizer tokenizer, List<string> documents)
    {
        long count = 0;
        foreach (string d in documents)
            count += tokenizer.Encode(d, addSpecialTokens: false).Ids.Length;
        return count;
    }

    private static long EncodeAll(TiktokenTokenizer tokenizer, List<string> documents)
    {
        long count = 0;
        foreach (string d in documents)
            count += tokenizer.EncodeToIds(d).Count;
        return count;
    }
}
