using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Distill.Text.Conversations;

namespace Distill.Synthetic;

/// <summary>A task of the self-instruct pool: its id and its instruction as one paragraph.</summary>
/// <param name="Id">The seed's id (its "id", else <c>seed-LINE</c>), or <c>si-REQUEST-INDEX</c> for a generated one.</param>
/// <param name="Text">The instruction, whitespace runs collapsed to single spaces (the few-shot list is one task per line).</param>
public sealed record InstructionTask(string Id, string Text);

/// <summary>
/// The self-instruct pool: the seed tasks and the instructions accepted so far, each with its ROUGE-L tokens, and the
/// rules a candidate must pass to join (<see cref="Judge"/>). Not thread-safe: the runner judges a round's replies one
/// at a time, in request order, so that the pool grows the same way whatever order the replies arrived in.
/// </summary>
public sealed partial class InstructionPool
{
    private readonly SelfInstructOptions _options;
    private readonly List<InstructionTask> _generated = [];
    private readonly List<(InstructionTask Task, string[] Tokens)> _all = [];

    /// <summary>A pool of the seed tasks.</summary>
    public InstructionPool(IReadOnlyList<InstructionTask> seeds, SelfInstructOptions options)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        Seeds = seeds;
        foreach (var seed in seeds) _all.Add((seed, RougeL.Tokenize(seed.Text)));
    }

    /// <summary>The seed tasks, in file order.</summary>
    public IReadOnlyList<InstructionTask> Seeds { get; }

    /// <summary>The accepted instructions, in the order they joined.</summary>
    public IReadOnlyList<InstructionTask> Generated => _generated;

    /// <summary>Adds an instruction (accepted now, or read back from an earlier run's file).</summary>
    public void Add(InstructionTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        _generated.Add(task);
        _all.Add((task, RougeL.Tokenize(task.Text)));
    }

    /// <summary>Why <paramref name="candidate"/> may not join, or null when it may: malformed (empty, too few or too many
    /// words, not opening with a letter or digit, no word ROUGE-L can compare) or a near-duplicate of a pool task.</summary>
    public string? Judge(string candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (candidate.Length == 0) return "empty";
        var words = candidate.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (words < _options.MinWords) return $"{words} words, fewer than {_options.MinWords}";
        if (words > _options.MaxWords) return $"{words} words, more than {_options.MaxWords}";
        if (!char.IsLetterOrDigit(candidate, 0)) return "does not start with a letter or digit";
        var tokens = RougeL.Tokenize(candidate);
        if (tokens.Length == 0) return "no Latin letters or digits, so ROUGE-L cannot compare it with the pool";
        double best = 0;
        InstructionTask? nearest = null;
        foreach (var (task, other) in _all)
        {
            var f = RougeL.F(tokens, other);
            if (f > best) (best, nearest) = (f, task);
        }
        return best > _options.MaxRougeL
            ? string.Create(CultureInfo.InvariantCulture, $"near-duplicate: ROUGE-L F {best:F3} > {_options.MaxRougeL:G3} against {nearest!.Id} \"{nearest.Text}\"")
            : null;
    }

    /// <summary>
    /// The candidate instructions in a teacher's reply: the text of each numbered line ("7. …", "7) …", "7: …") when there
    /// are any, else the whole reply as one candidate; whitespace collapsed.
    /// </summary>
    public static List<string> Candidates(string reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var numbered = reply.Split('\n').Select(l => NumberedLine().Match(l)).Where(m => m.Success).Select(m => OneParagraph(m.Groups[1].Value)).ToList();
        return numbered.Count > 0 ? numbered : [OneParagraph(reply)];
    }

    /// <summary><paramref name="text"/> with every whitespace run (newlines too) made one space, trimmed.</summary>
    public static string OneParagraph(string text) => Whitespace().Replace(text, " ").Trim();

    /// <summary>
    /// Reads the seed tasks: per line <c>{"instruction": …}</c> (self-instruct's and Alpaca's seed layout; a non-empty
    /// "input", or the first of "instances"' inputs, goes after it) or any prompt layout <c>distill generate</c> reads,
    /// whose last user turn is the task.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is unusable, two share an id, or the file holds no task; the message names file and line.</exception>
    public static List<InstructionTask> ReadSeeds(string path)
    {
        var tasks = new List<InstructionTask>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            InstructionTask task;
            try
            {
                task = SeedTask(line, number);
            }
            catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{number}: {e.Message}", e);
            }
            if (task.Text.Length == 0) throw new InvalidDataException($"{path}:{number}: the task is empty");
            if (!seen.TryAdd(task.Id, number)) throw new InvalidDataException($"{path}:{number}: id \"{task.Id}\" is also on line {seen[task.Id]}");
            tasks.Add(task);
        }
        if (tasks.Count == 0) throw new InvalidDataException($"{path}: no seed task");
        return tasks;
    }

    private static InstructionTask SeedTask(string line, int number)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var i) && i.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? (i.ValueKind == JsonValueKind.String ? i.GetString()! : i.GetRawText())
            : $"seed-{number}";
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("instruction", out var instruction))
        {
            var text = instruction.GetString() ?? throw new InvalidDataException("\"instruction\" must be a string");
            var input = root.TryGetProperty("input", out var direct) ? direct.GetString()
                : root.TryGetProperty("instances", out var instances) && instances.GetArrayLength() > 0 && instances[0].TryGetProperty("input", out var first) ? first.GetString()
                : null;
            return new InstructionTask(id, OneParagraph(string.IsNullOrWhiteSpace(input) ? text : text + " " + input));
        }
        var messages = PromptFile.PromptPart(ConversationParser.Parse(line, ConversationFormat.Auto, requireAssistant: false));
        var user = messages.LastOrDefault(m => m.Role == "user") ?? throw new InvalidDataException("no user turn to take the task from");
        return new InstructionTask(id, OneParagraph(user.Content));
    }

    [GeneratedRegex(@"^\s*\d+\s*[.):]\s*(\S.*)$")]
    private static partial Regex NumberedLine();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
