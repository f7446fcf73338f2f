using System.Text.Json;
using Distill.LogitCache;
using Distill.Text.Conversations;

namespace Distill.Training;

/// <summary>Opens the <c>data.path</c> / <c>data.val_data</c> of a config as an <see cref="IExampleSource"/>.</summary>
public static class TrainingData
{
    /// <summary>
    /// A folder with <c>manifest.json</c> is a logit cache (KD + SFT). A JSONL file is plain SFT, either pre-tokenized
    /// (<c>{"input_ids": [...], "loss_mask": [...]}</c>, mask optional = every token after the first) or conversations,
    /// tokenized with the student's tokenizer and chat template (or the built-in <paramref name="chatFormat"/>), with the
    /// loss on the assistant's tokens.
    /// </summary>
    /// <exception cref="InvalidDataException">The path is neither, or a line is malformed (names the file and line).</exception>
    public static IExampleSource Open(string path, int? topK, string studentDir, string? chatFormat = null)
    {
        if (Directory.Exists(path))
        {
            if (!File.Exists(Path.Combine(path, CacheFolder.ManifestFileName)))
                throw new InvalidDataException($"{path}: a folder given as data must be a logit cache with {CacheFolder.ManifestFileName}");
            return new CacheExampleSource(path, topK);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: training data not found", path);
        return new InMemoryExampleSource(path, IsPreTokenized(path) ? ReadTokenized(path) : ReadConversations(path, studentDir, chatFormat));
    }

    /// <summary>Tokenizes a conversations JSONL file for the student (its tokenizer and chat template).</summary>
    public static IReadOnlyList<TrainingExample> ReadConversations(string path, string studentDir, string? chatFormat)
    {
        var chat = ChatTokenizer.Load(studentDir, chatFormat);
        var examples = chat.BuildAll(ConversationReader.Open(path).Read())
            .Select(e => new TrainingExample(e.InputIds, e.LossMask)).ToArray();
        if (examples.Length == 0) throw new InvalidDataException($"{path}: no conversations");
        return examples;
    }

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

    /// <summary>Reads pre-tokenized JSONL examples.</summary>
    public static IReadOnlyList<TrainingExample> ReadTokenized(string path)
    {
        var examples = new List<TrainingExample>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            examples.Add(ParseLine(text, $"{path}:{line}"));
        }
        if (examples.Count == 0) throw new InvalidDataException($"{path}: no examples");
        return examples;
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
