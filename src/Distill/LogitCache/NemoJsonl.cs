using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Distill.LogitCache;

/// <summary>
/// Interop with NeMo-Aligner's KD data: the chunk files <c>&lt;name&gt;_&lt;CHUNK_INDEX&gt;.jsonl</c> written by its
/// <c>compute_topk_logits.py</c> and read by <c>train_gpt_knowledge_distillation.py</c> with <c>data_impl=chunked_jsonl</c>.
/// Field names, padding and row alignment are documented in docs/FORMAT.md.
/// </summary>
public static class NemoJsonl
{
    /// <summary>Rows are padded to a multiple of this, as NeMo's SFT collate does.</summary>
    public const int PadMultiple = 16;

    /// <summary>The chunk file name prefix when none is given (<c>kd_0.jsonl</c>, ...).</summary>
    public const string DefaultName = "kd";

    /// <summary>One chunk file unless more are asked for (NeMo's trainer reads any number of equal-length chunks).</summary>
    public const int DefaultChunkCount = 1;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes the cache as <paramref name="chunkCount"/> chunk files of equal line count in <paramref name="outDirectory"/>.
    /// <paramref name="padId"/> is the tokenizer's eos id, which NeMo pads tokens, labels and filler top-K ids with.
    /// Each chunk is written to a temp file and renamed when complete.
    /// </summary>
    public static NemoExportResult Export(LogitCacheReader reader, string outDirectory, string name, int chunkCount, int padId,
        NemoRemainder remainder = NemoRemainder.Repeat)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var examples = reader.ExampleCount;
        if (chunkCount < 1) throw new ArgumentException($"chunk count must be ≥ 1, got {chunkCount}", nameof(chunkCount));
        var perChunk = remainder == NemoRemainder.Repeat ? (examples + chunkCount - 1) / chunkCount : examples / chunkCount;
        if (perChunk == 0) throw new ArgumentException($"{examples} examples cannot fill {chunkCount} chunks of at least one line", nameof(chunkCount));
        Directory.CreateDirectory(outDirectory);
        var files = new List<string>();
        for (var c = 0; c < chunkCount; c++)
        {
            var path = Path.Combine(outDirectory, string.Create(CultureInfo.InvariantCulture, $"{name}_{c}.jsonl"));
            WriteChunk(reader, path, c * perChunk, perChunk, padId);
            files.Add(path);
        }
        var lines = perChunk * chunkCount;
        return new NemoExportResult(files, perChunk, Math.Max(0, lines - examples), Math.Max(0, examples - lines));
    }

    private static void WriteChunk(LogitCacheReader reader, string path, long firstLine, long lines, int padId)
    {
        var temp = path + ".tmp";
        try
        {
            WriteLines(reader, temp, firstLine, lines, padId);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        File.Move(temp, path, overwrite: true);
    }

    private static void WriteLines(LogitCacheReader reader, string temp, long firstLine, long lines, int padId)
    {
        using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        using var json = new Utf8JsonWriter(stream, WriterOptions);
        for (var line = firstLine; line < firstLine + lines; line++)
        {
            var index = line % reader.ExampleCount; // lines past the end repeat examples 0, 1, …
            try
            {
                NemoJsonlWriter.WriteLine(json, reader.Example(index), padId, PadMultiple);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{reader.Directory}: example {index}: {e.Message}", e);
            }
            json.Flush();
            stream.WriteByte((byte)'\n');
            json.Reset();
        }
    }

    /// <summary>
    /// Reads NeMo KD chunk files (in the order given) into a new cache in <paramref name="outDirectory"/>. Lines whose
    /// <c>index</c> was already seen are skipped (repeats from padded chunks); examples keep the order of first
    /// appearance. An interrupted import rerun into the same folder resumes after its complete shards. K comes from the data, logits are stored as f32, <c>max_seq_len</c> is the longest example,
    /// <c>data</c> lists the files (joined by <see cref="Path.PathSeparator"/>) with the SHA-256 and size of all files' bytes
    /// concatenated in order, and <c>compute_dtype</c> is absent (NeMo does not record it).
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed line; the message names the file, the line number and the key.</exception>
    public static CacheManifest Import(IReadOnlyList<string> files, string outDirectory, TeacherFingerprint teacher,
        string tokenizerFingerprint, string chatTemplate, LogitCacheWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("no NeMo JSONL files given", nameof(files));
        long examples = 0;
        int topK = 0, maxLength = 1;
        ForEachExample(files, (example, _, _) =>
        {
            examples++;
            topK = example.TopK;
            maxLength = Math.Max(maxLength, example.InputIds.Length);
        });
        var settings = CacheManifest.Create(teacher, tokenizerFingerprint, chatTemplate,
            Source(files), Math.Max(topK, 1), "f32", maxLength, examples);
        var writer = LogitCacheWriter.Open(outDirectory, settings, options);
        long position = 0;
        ForEachExample(files, (example, file, line) =>
        {
            if (position++ < writer.NextExample) return; // already in complete shards of an interrupted import
            if (example.TopK != settings.TopK)
                throw new InvalidDataException($"{file}:{line}: key 'topk_token_ids': rows have {example.TopK} entries, earlier lines {settings.TopK}");
            try
            {
                writer.Add(example);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{file}:{line}: {e.Message}", e);
            }
        });
        return writer.Complete();
    }

    private static void ForEachExample(IReadOnlyList<string> files, Action<CacheExample, string, int> action)
    {
        var seen = new HashSet<long>();
        foreach (var file in files)
        {
            using var text = new StreamReader(file);
            var number = 0;
            while (text.ReadLine() is { } line)
            {
                number++;
                if (line.Length == 0) continue;
                var example = ParseLine(line, file, number, seen);
                if (example is not null) action(example, file, number);
            }
        }
    }

    private static CacheExample? ParseLine(string line, string file, int number, HashSet<long> seen)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (!seen.Add(NemoJsonlLine.Index(doc.RootElement))) return null;
            return NemoJsonlLine.Parse(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{file}:{number}: {e.Message}", e);
        }
    }

    // One file is recorded as itself; several as a path list, which the trainer cannot mistake for one file to check.
    private static DataSource Source(IReadOnlyList<string> files) =>
        new(string.Join(Path.PathSeparator, files), HashAll(files), files.Sum(f => new FileInfo(f).Length));

    private static string HashAll(IReadOnlyList<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            int n;
            while ((n = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
