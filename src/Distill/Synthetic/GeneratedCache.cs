using System.Text;
using System.Text.Json.Nodes;
using Distill.LogitCache;
using Distill.Teachers;
using Distill.Tensors;
using Distill.Text;
using Distill.Text.Conversations;

namespace Distill.Synthetic;

/// <summary>
/// <c>distill generate --logprobs K</c>: the teacher's top-K log-probabilities of every generated token, kept as a logit
/// cache beside the generated JSONL (docs/FORMAT.md), so <c>distill train --data G.cache</c> runs KD + SFT on generated
/// data. While generating, each kept response's tokens (mapped to the student's ids by <see cref="ServedTokenMap"/>)
/// and their top log-probabilities go to a side file, appended before the response's lines reach the output, so every
/// output line has its entry (a kill leaves at most entries without lines, which are ignored, and a torn last entry).
/// After the run the cache is rebuilt from the output and the side file (cheap: no model runs) into a temporary folder
/// that replaces the old one. An example is the prompt as the student's chat template renders it (not supervised)
/// followed by the generated tokens exactly as the teacher produced them (supervised, one row each by
/// <see cref="ServedRows"/>); the end-of-turn token that stopped generation has no row (servers do not report it).
/// </summary>
public sealed class GeneratedCache : IDisposable
{
    private readonly GenerateOptions _options;
    private readonly ChatTokenizer _chat;
    private readonly ServedTokenMap _map;
    private readonly int _vocab;
    private readonly FileStream _side;
    private readonly Lock _lock = new();

    private GeneratedCache(GenerateOptions options, ChatTokenizer chat, ServedTokenMap map, int vocab, FileStream side)
    {
        _options = options;
        _chat = chat;
        _map = map;
        _vocab = vocab;
        _side = side;
    }

    /// <summary>Loads the tokenizer (<see cref="GenerateOptions.Tokenizer"/>, else the local teacher's) and opens the side file.</summary>
    public static GeneratedCache Open(GenerateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var folder = options.Tokenizer ?? options.Teacher!;
        var chat = ChatTokenizer.Load(folder, options.ChatFormat);
        var vocab = ServedTokenMap.VocabOf(folder, chat.Tokenizer);
        var side = new FileStream(options.LogprobsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        return new GeneratedCache(options, chat, ServedTokenMap.For(chat.Tokenizer, vocab), vocab, side);
    }

    /// <summary>Records the kept responses (<paramref name="verdicts"/> null) of a prompt; call before their output lines are written.</summary>
    /// <exception cref="InvalidDataException">A token that is not one student token: names the teacher, prompt and position.</exception>
    public void Append(string promptId, TeacherReply reply, IReadOnlyList<string?> verdicts, string teacher)
    {
        var text = new StringBuilder();
        for (var i = 0; i < reply.Choices.Count; i++)
        {
            if (verdicts[i] is not null) continue;
            var tokens = reply.Choices[i].Logprobs ?? throw new InvalidDataException($"{teacher}: prompt {promptId} was answered without log-probabilities");
            var ids = new JsonArray();
            var top = new JsonArray();
            for (var t = 0; t < tokens.Count; t++)
            {
                var where = $"{teacher}: prompt {promptId}, response {i}, generated token {t}";
                ids.Add(_map.Resolve(tokens[t].Token, tokens[t].Bytes, where));
                top.Add(new JsonArray([.. tokens[t].Top.Select(a => (JsonNode)new JsonArray(_map.Resolve(a.Token, a.Bytes, where), a.Logprob))]));
            }
            text.Append(new JsonObject { ["prompt_id"] = promptId, ["choice"] = i, ["ids"] = ids, ["top"] = top }.ToJsonString()).Append('\n');
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (_lock)
        {
            _side.Write(bytes);
            _side.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// Writes the cache of every output line (in file order) to <see cref="GenerateOptions.CachePath"/>, replacing the old one.
    /// Responses with no generated token are left out (they have nothing to teach). Returns the manifest.
    /// </summary>
    /// <exception cref="InvalidDataException">An output line without an entry in the side file (generated without --logprobs).</exception>
    public CacheManifest Build(string teacherName)
    {
        lock (_lock) _side.Flush(flushToDisk: true);
        var entries = ReadSide();
        var lengths = Examples(entries).Select(e => e.InputIds.Length).ToList();
        var k = _options.Logprobs!.Value;
        var settings = CacheManifest.Create(Teacher(teacherName, k), _chat.Tokenizer.Fingerprint, _chat.Template.Source, DataSource.Of(_options.Output),
            k, "f32", Math.Max(1, lengths.DefaultIfEmpty(1).Max()), lengths.Count,
            _options.Teacher is null ? null : ComputeDTypes.Name(Devices.ParseComputeDType(_options.DType)));
        var temporary = _options.CachePath + ".tmp";
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        var writer = LogitCacheWriter.Open(temporary, settings);
        foreach (var example in Examples(entries)) writer.Add(example);
        var manifest = writer.Complete();
        if (Directory.Exists(_options.CachePath)) Directory.Delete(_options.CachePath, recursive: true);
        Directory.Move(temporary, _options.CachePath);
        return manifest;
    }

    /// <summary>Closes the side file.</summary>
    public void Dispose() => _side.Dispose();

    private TeacherFingerprint Teacher(string name, int k)
    {
        if (_options.TeacherUrl is not { } url) return TeacherFingerprints.Compute(_options.Teacher!);
        var request = new JsonObject
        {
            ["logprobs"] = true, ["top_logprobs"] = k, ["n"] = _options.N, ["temperature"] = _options.Temperature, ["top_p"] = _options.TopP,
            ["max_tokens"] = _options.MaxNewTokens, ["seed"] = _options.Seed,
        };
        return TeacherFingerprint.Served(url, name, _vocab, "/v1/chat/completions", request.ToJsonString());
    }

    // (prompt id, choice) → the entry; a later entry replaces an earlier one (a prompt answered again after a kill), and a
    // torn last line (the kill) is skipped.
    private Dictionary<(string, int), JsonNode> ReadSide()
    {
        var entries = new Dictionary<(string, int), JsonNode>();
        foreach (var line in File.ReadLines(_options.LogprobsPath))
        {
            JsonNode? json;
            try
            {
                json = JsonNode.Parse(line);
            }
            catch (System.Text.Json.JsonException)
            {
                continue;
            }
            if (json?["prompt_id"] is JsonValue id && json["choice"] is JsonValue choice) entries[(id.GetValue<string>(), choice.GetValue<int>())] = json;
        }
        return entries;
    }

    private IEnumerable<CacheExample> Examples(Dictionary<(string, int), JsonNode> entries)
    {
        var k = _options.Logprobs!.Value;
        var number = 0;
        foreach (var line in File.ReadLines(_options.Output))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var json = JsonNode.Parse(line)!;
            var (id, choice) = ((string)json["prompt_id"]!, (int)json["choice"]!);
            if (!entries.TryGetValue((id, choice), out var entry))
                throw new InvalidDataException($"{_options.Output}:{number}: prompt {id} response {choice} has no log-probabilities in {_options.LogprobsPath} " +
                    "(was it generated without --logprobs?); generate into a new output to make a cache");
            var generated = entry["ids"]!.AsArray().Select(x => (int)x!).ToArray();
            if (generated.Length == 0) continue;
            var messages = json["messages"]!.AsArray().Select(m => new ChatMessage((string)m!["role"]!, (string)m["content"]!)).ToList();
            var prompt = _chat.Encode(_chat.Render(messages[..^1], addGenerationPrompt: true)).Ids;
            var ids = prompt.Concat(generated).ToArray();
            var mask = new byte[ids.Length];
            Array.Fill(mask, (byte)1, prompt.Length, generated.Length);
            var top = entry["top"]!.AsArray();
            var scored = new ScoredTokens(new float[ids.Length], new (int, double)[]?[ids.Length]);
            for (var t = 0; t < generated.Length; t++)
                scored.Top[prompt.Length + t] = [.. top[t]!.AsArray().Select(a => ((int)a![0]!, (double)a[1]!))];
            yield return ServedRows.Example(ids, mask, scored, k, $"{_options.LogprobsPath}: prompt {id} response {choice}");
        }
    }
}
