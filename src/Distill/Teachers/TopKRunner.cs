using Distill.LogitCache;
using Distill.Models;
using Distill.Tensors;
using Distill.Text.Conversations;

namespace Distill.Teachers;

/// <summary>
/// <c>distill topk</c>: tokenizes chat data with the teacher's tokenizer and chat template, runs the teacher, and writes
/// its top-K logits into a logit cache (docs/FORMAT.md). A slice (<c>--shard I/N</c>) writes its part of the cache; the
/// slice that finds every part complete merges them. Rerunning the same run resumes after its complete shards and
/// ends with the same bytes as an uninterrupted run, because batches are planned inside fixed windows of the global
/// example index (<see cref="TopKOptions.WindowExamples"/>), not from where a run happened to start.
/// <para>With <see cref="TopKOptions.TeacherUrl"/> the teacher is a server (black-box): each batch's examples are scored
/// concurrently by <see cref="ServedScorer"/> and stored by <see cref="ServedRows"/>; the data is tokenized with
/// <see cref="TopKOptions.Tokenizer"/>'s tokenizer, and the manifest names the server, the model and the request.</para>
/// </summary>
public static class TopKRunner
{
    /// <summary>Runs the teacher over the data (or the slice) and writes the cache.</summary>
    /// <exception cref="InvalidDataException">Bad data, teacher or an existing cache of other settings; names the file.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; complete shards stay and a rerun resumes after them.</exception>
    public static TopKResult Run(TopKOptions options, IProgress<TopKProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!File.Exists(options.Data)) throw new FileNotFoundException($"{options.Data}: data file not found", options.Data);
        // Before the teacher is loaded: a read-only --out must fail now, not after the first shard's compute.
        var created = CacheFolder.CheckWritable(options.Output);
        try
        {
            return RunIn(options, progress, cancel);
        }
        catch when (created)
        {
            CacheFolder.RemoveIfEmpty(options.Output);   // a failed first run leaves no empty folder behind
            throw;
        }
    }

    private static TopKResult RunIn(TopKOptions options, IProgress<TopKProgress>? progress, CancellationToken cancel)
    {
        var slice = options.Slice ?? CacheSlice.Whole;
        var folder = options.TokenizerFolder;
        var maxSeqLen = ContextLength.Resolve(options.MaxSeqLen, folder);
        var chat = ChatTokenizer.Load(folder, options.ChatFormat, new ExampleOptions(options.Supervise, maxSeqLen));
        var vocab = options.TeacherUrl is null ? 0 : ServedTokenMap.VocabOf(folder, chat.Tokenizer);
        using var served = options.TeacherUrl is { } url ? ServedScorer.Connect(url, options.TeacherModel, chat.Tokenizer, vocab, options.Concurrency) : null;
        var teacher = served is null ? TeacherFingerprints.Compute(options.Teacher!)
            : TeacherFingerprint.Served(served.Url, served.Model, vocab, "/v1/completions", ServedScorer.Parameters(options.TopK).ToJsonString());
        var data = DataSource.Of(Path.GetFullPath(options.Data));
        var skipped = new List<BadLine>();
        var (lengths, lines, truncated) = Survey(options, chat, teacher.VocabSize, skipped, cancel);
        if (lengths.Count == 0)
            throw new InvalidDataException($"{options.Data}: no usable conversation" + (skipped.Count > 0 ? $"; {BadLine.Summary(skipped)}" : ""));
        var settings = CacheManifest.Create(teacher, chat.Tokenizer.Fingerprint, chat.Template.Source, data, options.TopK,
            options.LogitDType, options.MaxSeqLen ?? lengths.Max(), lengths.Count, served is null ? ComputeDTypes.Name(options.ComputeDType) : null, options.BatchTokens);
        var writer = LogitCacheWriter.Open(options.Output, settings, options.Writer, slice);
        var resumed = writer.NextExample - writer.FirstExample;
        var computed = writer.NextExample < writer.EndExample ? Compute(options, chat, writer, lengths, lines, served, progress, cancel) : 0;
        var manifest = writer.Complete();
        if (slice == CacheSlice.Whole) return new TopKResult(manifest, true, computed, resumed, skipped, null, truncated, maxSeqLen);
        var (merged, note) = TryMerge(options.Output, slice.Count);
        return new TopKResult(merged ?? manifest, merged is not null, computed, resumed, skipped, note, truncated, maxSeqLen);
    }

    /// <summary>
    /// Merges the part manifests of a sliced run into manifest.json (<see cref="CacheFolder.Merge"/>); with no parts and a
    /// whole manifest, returns it unchanged.
    /// </summary>
    public static CacheManifest Merge(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) throw new DirectoryNotFoundException($"{cacheDir}: cache folder not found");
        return CacheFolder.Merge(cacheDir);
    }

    // The first pass: every usable example's length and line, so the manifest knows the example count before any shard
    // exists and the second pass can start reading at the slice's first line.
    private static (List<int> Lengths, List<int> Lines, int Truncated) Survey(TopKOptions options, ChatTokenizer chat, int vocabSize, List<BadLine> skipped, CancellationToken cancel)
    {
        var lengths = new List<int>();
        var lines = new List<int>();
        var truncated = 0;
        foreach (var example in Examples(options, chat, skipped, fromLine: 0))
        {
            cancel.ThrowIfCancellationRequested();
            var bad = Array.FindIndex(example.InputIds, id => id < 0 || id >= vocabSize);
            if (bad >= 0)
                throw new InvalidDataException($"{example.SourceFile}:{example.Line}: token id {example.InputIds[bad]} is outside the teacher's vocabulary of {vocabSize} (tokenizer and model disagree)");
            lengths.Add(example.InputIds.Length);
            lines.Add(example.Line);
            if (example.Truncated) truncated++;
        }
        return (lengths, lines, truncated);
    }

    // Lines before fromLine are parsed but not tokenized: the first pass already knows which examples they hold.
    private static IEnumerable<TokenizedExample> Examples(TopKOptions options, ChatTokenizer chat, List<BadLine>? skipped, int fromLine)
    {
        var reader = ConversationReader.Open(options.Data, new ConversationReaderOptions(options.Format, options.SkipBad));
        var unusable = new List<BadLine>();
        foreach (var example in chat.BuildAll(reader.Read().Where(c => c.Line >= fromLine), options.SkipBad ? unusable : null))
            yield return example;
        skipped?.AddRange(reader.Skipped.Concat(unusable).OrderBy(b => b.Line));
    }

    private static long Compute(TopKOptions options, ChatTokenizer chat, LogitCacheWriter writer, List<int> lengths, List<int> lines,
        ServedScorer? served, IProgress<TopKProgress>? progress, CancellationToken cancel)
    {
        using var model = served is null ? HfModelFolder.Load(options.Teacher!, Devices.Parse(options.Device), options.ComputeDType) : null;
        Func<IReadOnlyList<TokenizedExample>, CacheExample[]> teacher = model is not null
            ? new TopKTeacher(model, options.TopK, options.ChunkElements).ComputeBatch
            : batch => Task.WhenAll(batch.Select(async e => ServedRows.Example(e.InputIds, e.LossMask,
                await served!.ScoreAsync(e.InputIds, options.TopK, cancel), options.TopK, served.Name))).GetAwaiter().GetResult();
        var tracker = new TopKProgressTracker(writer, lengths, progress);
        var windowSize = options.WindowExamples;
        var start = writer.NextExample / windowSize * windowSize; // the slice starts on a grid line, a multiple of the window
        var window = new List<TokenizedExample>(windowSize);
        long index = start, computed = 0;
        foreach (var example in Examples(options, chat, null, lines[(int)start]))
        {
            if (index >= writer.EndExample) break;
            if (example.Line != lines[(int)index])
                throw new InvalidDataException($"{options.Data}: changed while being read (example {index} was on line {lines[(int)index]}, now line {example.Line})");
            window.Add(example);
            index++;
            if (window.Count == windowSize || (index == writer.EndExample && window.Count > 0))
            {
                computed += RunWindow(teacher, options.BatchTokens, writer, index - window.Count, window, tracker, cancel);
                window.Clear();
            }
        }
        return computed;
    }

    // Computes a whole window (examples a resumed run already wrote included, so batches match the first run's) and
    // writes the examples the writer still expects, in order.
    private static long RunWindow(Func<IReadOnlyList<TokenizedExample>, CacheExample[]> teacher, long batchTokens, LogitCacheWriter writer, long first,
        List<TokenizedExample> window, TopKProgressTracker tracker, CancellationToken cancel)
    {
        var results = new CacheExample[window.Count];
        foreach (var batch in LengthBatches.Plan(window.Select(e => e.InputIds.Length).ToArray(), batchTokens))
        {
            cancel.ThrowIfCancellationRequested();
            var computed = teacher(batch.Select(i => window[i]).ToArray());
            for (var b = 0; b < batch.Length; b++) results[batch[b]] = computed[b];
            tracker.Computed(batch.Sum(i => (long)window[i].InputIds.Length));
        }
        long written = 0;
        for (var i = 0; i < results.Length; i++)
        {
            if (first + i < writer.NextExample) continue;
            writer.Add(results[i]);
            written++;
        }
        tracker.Written(first + results.Length);
        return written;
    }

    private static (CacheManifest? Merged, string? Note) TryMerge(string directory, int sliceCount)
    {
        var missing = Enumerable.Range(0, sliceCount)
            .Where(i => !File.Exists(Path.Combine(directory, CacheFolder.PartManifestFileName(new CacheSlice(i, sliceCount))))).ToArray();
        if (missing.Length > 0)
            return (null, $"slice(s) {string.Join(", ", missing)} of {sliceCount} have not written anything yet; the last slice to finish merges, or run 'distill topk merge'");
        try
        {
            return (CacheFolder.Merge(directory), null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return (null, $"not merged yet: {e.Message}");
        }
    }
}
