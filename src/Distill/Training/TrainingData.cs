using System.Globalization;
using System.Text.Json;
using Distill.LogitCache;
using Distill.Models;
using Distill.Text.Conversations;

namespace Distill.Training;

/// <summary>Opens the <c>data.path</c> / <c>data.val_data</c> of a config as an <see cref="IExampleSource"/>.</summary>
public static class TrainingData
{
    /// <summary>
    /// A folder with <c>manifest.json</c> is a logit cache (KD + SFT). A JSONL file is plain SFT, either pre-tokenized
    /// (<c>{"input_ids": [...], "loss_mask": [...]}</c>, mask optional = every token after the first) or conversations,
    /// tokenized with the student's tokenizer and chat template (or <see cref="DataOptions.ChatFormat"/>), with the loss
    /// on the assistant's tokens. JSONL examples are cut to <see cref="DataOptions.MaxSeqLen"/> (default: the student's
    /// <c>max_position_embeddings</c>); the source's <see cref="InMemoryExampleSource.Notes"/> count the cut and skipped ones.
    /// </summary>
    /// <exception cref="InvalidDataException">The path is neither, or a line is malformed (names the file and line).</exception>
    public static IExampleSource Open(string path, DataOptions data, string studentDir)
    {
        if (Directory.Exists(path))
        {
            if (!File.Exists(Path.Combine(path, CacheFolder.ManifestFileName)))
                throw new InvalidDataException($"{path}: a folder given as data must be a logit cache with {CacheFolder.ManifestFileName}");
            return new CacheExampleSource(path, data.TopK, data.Verify);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: training data not found", path);
        var maxSeqLen = ContextLength.Resolve(data.MaxSeqLen, studentDir);
        data = data with { MaxSeqLen = maxSeqLen };
        return IsPreTokenized(path) ? ReadTokenized(path, data) : ReadConversations(path, studentDir, data);
    }

    /// <summary>The token ids of the first <paramref name="count"/> examples of <paramref name="path"/> (e.g. calibration
    /// sequences for <see cref="WidthPruning"/>), tokenized as <see cref="Open"/> does with <paramref name="tokenizerDir"/>.</summary>
    public static IReadOnlyList<int[]> Sequences(string path, string tokenizerDir, int count)
    {
        using var source = Open(path, new DataOptions(), tokenizerDir);
        return [.. Enumerable.Range(0, (int)Math.Min(count, source.Count)).Select(i => source.Example(i).InputIds)];
    }

    private static InMemoryExampleSource ReadConversations(string path, string studentDir, DataOptions data)
    {
        var chat = ChatTokenizer.Load(studentDir, data.ChatFormat, new ExampleOptions(data.Supervise, data.MaxSeqLen));
        var reader = ConversationReader.Open(path, new ConversationReaderOptions(SkipBad: data.SkipBad));
        var unusable = new List<BadLine>();
        var built = chat.BuildAll(reader.Read(), data.SkipBad ? unusable : null).ToArray();
        var examples = built.Select(e => new TrainingExample(e.InputIds, e.LossMask)).ToArray();
        var notes = new List<string>();
        if (Truncation(path, built.Count(e => e.Truncated), examples.Length, data.MaxSeqLen) is { } cut) notes.Add(cut);
        var skipped = reader.Skipped.Concat(unusable).OrderBy(b => b.Line).ToArray();
        if (skipped.Length > 0) notes.Add($"{path}: {BadLine.Summary(skipped)}");
        if (examples.Length == 0) throw new InvalidDataException($"{path}: no usable conversation" + (skipped.Length > 0 ? $"; {BadLine.Summary(skipped)}" : ""));
        return new InMemoryExampleSource(path, examples, notes);
    }

    private static string? Truncation(string path, int truncated, int total, int? maxSeqLen) => truncated == 0 ? null
        : string.Create(CultureInfo.InvariantCulture, $"{path}: {truncated} of {total} examples were longer than max_seq_len = {maxSeqLen} tokens and were cut to it (their end is dropped)");

    private static bool IsPreTokenized(string path)
    {
        var first = File.ReadLines(path).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        if (first is null) return true;
        try
        {
            using var doc = JsonDocument.Parse(first);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("input_ids", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Pre-tokenized lines follow the conversations' rules: the end is cut to max_seq_len, and a line left with no
    // supervised token, not UTF-8 or malformed is an error naming it (or, with skip_bad, skipped and listed).
    private static InMemoryExampleSource ReadTokenized(string path, DataOptions data)
    {
        var examples = new List<TrainingExample>();
        var skipped = new List<BadLine>();
        var (line, truncated) = (0, 0);
        using var stream = File.OpenRead(path);
        var lines = new LineReader(stream, ConversationReaderOptions.Default.MaxLineBytes);
        while (lines.TryReadLine(out var text, out var problem))
        {
            line++;
            try
            {
                if (text is null) throw new InvalidDataException($"{path}:{line}: {problem}");
                if (string.IsNullOrWhiteSpace(text)) continue;
                var example = ParseLine(text, $"{path}:{line}");
                if (example.InputIds.Length > data.MaxSeqLen)
                {
                    var keep = data.MaxSeqLen.Value;
                    example = new TrainingExample(example.InputIds[..keep], example.LossMask[..keep]);
                    if (example.SupervisedCount == 0)
                        throw new InvalidDataException($"{path}:{line}: no supervised token left after truncation to {keep} tokens");
                    truncated++;
                }
                examples.Add(example);
            }
            catch (InvalidDataException e) when (data.SkipBad)
            {
                skipped.Add(new BadLine(path, line, e.Message[($"{path}:{line}: ".Length)..]));
            }
        }
        var notes = new List<string>();
        if (Truncation(path, truncated, examples.Count, data.MaxSeqLen) is { } cut) notes.Add(cut);
        if (skipped.Count > 0) notes.Add($"{path}: {BadLine.Summary(skipped)}");
        if (examples.Count == 0) throw new InvalidDataException($"{path}: no examples" + (skipped.Count > 0 ? $"; {BadLine.Summary(skipped)}" : ""));
        return new InMemoryExampleSource(path, examples, notes);
    }

    private static TrainingExample ParseLine(string text, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (!doc.RootElement.TryGetProperty("input_ids", out var idsElement))
                throw new InvalidDataException($"{where}: key 'input_ids' is missing (the first line had it, so every line must)");
            var ids = idsElement.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            if (ids.Length == 0) throw new InvalidDataException($"{where}: input_ids is empty");
            var mask = doc.RootElement.TryGetProperty("loss_mask", out var maskElement)
                ? maskElement.EnumerateArray().Select(e => (byte)(e.GetInt32() != 0 ? 1 : 0)).ToArray()
                : ids.Select((_, j) => (byte)(j > 0 ? 1 : 0)).ToArray();
            if (mask.Length != ids.Length)
                throw new InvalidDataException($"{where}: loss_mask has {mask.Length} entries but input_ids has {ids.Length}");
            return new TrainingExample(ids, mask);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }
}
