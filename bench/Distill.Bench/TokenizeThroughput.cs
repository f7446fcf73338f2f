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
        var trainingText = new EnglishText(seed: 1).Documents(TrainChars);
        long start = Stopwatch.GetTimestamp();
        var tokens = BpeTrainer.Train(trainingText, TargetVocab);
        double trainSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int merges = ByteLevelTokenizerFiles.WriteTokenizerJson(folder, tokens);
        start = Stopwatch.GetTimestamp();
        var jitWarmer = HfTokenizer.Load(folder);
        double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var documents = new EnglishText(seed: 2).Documents(HeldOutChars);
        var warmupDocuments = new EnglishText(seed: 3).Documents(300_000);
        double megabytes = Megabytes(documents);
        EncodeAll(jitWarmer, warmupDocuments);
        long tokenCount = 0;
        // Fresh instances are timed, so the first pass starts with an empty word cache but jitted code.
        var ours = HfTokenizer.Load(folder);
        var oursTimes = TimePasses(() => tokenCount = EncodeAll(ours, documents));
        EncodeAll(Reference(tokens), warmupDocuments);
        var reference = Reference(tokens);
        var referenceTimes = TimePasses(() => EncodeAll(reference, documents));
        int mismatches = documents.Count(d => !ours.Encode(d, addSpecialTokens: false).Ids.SequenceEqual(reference.EncodeToIds(d)));

        return new JsonObject
        {
            ["vocab_size"] = ours.VocabSize,
            ["merges"] = merges,
            ["train_text_mb"] = Megabytes(trainingText),
            ["train_seconds"] = trainSeconds,
            ["load_seconds"] = loadSeconds,
            ["text_mb"] = megabytes,
            ["documents"] = documents.Count,
            ["tokens"] = tokenCount,
            ["bytes_per_token"] = megabytes * 1e6 / tokenCount,
            ["ours"] = Speeds("Distill HfTokenizer", oursTimes, megabytes, tokenCount),
            ["reference"] = Speeds("Microsoft.ML.Tokenizers TiktokenTokenizer (default cache)", referenceTimes, megabytes, tokenCount),
            ["warm_ratio_ours_to_reference"] = referenceTimes.Warm / oursTimes.Warm,
            ["cold_ratio_ours_to_reference"] = referenceTimes.Cold / oursTimes.Cold,
            ["warm_cpu_ratio_ours_to_reference"] = referenceTimes.WarmCpu / oursTimes.WarmCpu,
            ["ids_identical"] = mismatches == 0,
            ["mismatched_documents"] = mismatches,
            ["meets_10MBps_target"] = megabytes / oursTimes.Warm >= TargetMBps,
            ["meets_10MBps_target_per_cpu_s"] = megabytes / oursTimes.WarmCpu >= TargetMBps,
        };
    }

    private static double Megabytes(List<string> documents) =>
        documents.Sum(d => System.Text.Encoding.UTF8.GetByteCount(d)) / 1e6;

    private static JsonObject Speeds(string name, (double Cold, double Warm, double WarmCpu) times, double megabytes, long tokens) => new()
    {
        ["name"] = name,
        ["cold_mb_per_s"] = megabytes / times.Cold,
        ["warm_mb_per_s"] = megabytes / times.Warm,
        ["warm_tokens_per_s"] = tokens / times.Warm,
        ["warm_mb_per_cpu_s"] = megabytes / times.WarmCpu,
    };

    /// <summary>The first pass (cold), then <see cref="Timed"/> over three more (warm).</summary>
    private static (double Cold, double Warm, double WarmCpu) TimePasses(Action pass)
    {
        long start = Stopwatch.GetTimestamp();
        pass();
        double cold = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (warm, warmCpu) = Timed(pass);
        return (cold, warm, warmCpu);
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
