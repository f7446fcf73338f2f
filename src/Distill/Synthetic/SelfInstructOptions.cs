namespace Distill.Synthetic;

/// <summary>
/// What <c>distill generate --self-instruct SEEDS --num N</c> adds to <see cref="GenerateOptions"/>: the seed tasks, how
/// many new instructions to grow, how each few-shot prompt is drawn and which candidates are kept. The defaults follow
/// self-instruct (Wang et al., 2022): 8 examples per prompt, 6 from the seed tasks and 2 from those generated so far;
/// Alpaca's filters: instructions of 3 words or fewer or more than 150 are dropped, and so is any whose ROUGE-L F
/// against an instruction already in the pool is above 0.7.
/// </summary>
public sealed record SelfInstructOptions
{
    /// <summary>Seed tasks, JSONL: <c>{"instruction": ...}</c> (self-instruct's and Alpaca's layout; an "input" is appended) or any prompt layout <c>distill generate</c> reads (the last user turn is the task).</summary>
    public required string Seeds { get; init; }

    /// <summary>New instructions to grow (the pool then holds the seeds and these).</summary>
    public required int Num { get; init; }

    /// <summary>What the teacher is asked before the numbered list of examples, which ends with the next number left open.</summary>
    public const string DefaultHeader =
        "Here are some tasks, one per line. Continue the numbered list with new tasks in the same style: each one different "
        + "from all of those above in what it asks and how it is worded, one per line.";

    /// <summary>The request's text before the numbered examples (empty: the list alone); e.g. the domain and format of the tasks wanted.</summary>
    public string Header { get; init; } = DefaultHeader;

    /// <summary>Examples per few-shot prompt drawn from the seed tasks.</summary>
    public int FromSeeds { get; init; } = 6;

    /// <summary>Examples per few-shot prompt drawn from the instructions generated so far (fewer while there are fewer).</summary>
    public int FromGenerated { get; init; } = 2;

    /// <summary>Candidates with fewer words than this (split on whitespace) are dropped as malformed.</summary>
    public int MinWords { get; init; } = 4;

    /// <summary>Candidates with more words than this are dropped as malformed.</summary>
    public int MaxWords { get; init; } = 150;

    /// <summary>A candidate whose ROUGE-L F against any instruction in the pool is above this is a near-duplicate.</summary>
    public double MaxRougeL { get; init; } = 0.7;

    /// <summary>Requests after which the run stops even short of <see cref="Num"/> (a teacher that only repeats itself); null: 10·Num.</summary>
    public int? MaxRequests { get; init; }

    /// <summary>The request limit in force.</summary>
    public int RequestLimit => MaxRequests ?? checked(10 * Num);

    /// <summary>Where the grown instructions go, beside the output: a prompts file (<c>{"id", "prompt"}</c> lines) that <c>distill generate --prompts</c> reads as it is.</summary>
    public static string InstructionsPath(string output) => Path.ChangeExtension(output, ".instructions.jsonl");

    /// <summary>Where dropped candidates go, with the reason.</summary>
    public static string RejectedPath(string output) => Path.ChangeExtension(output, ".instructions.rejected.jsonl");

    /// <summary>The resume point: requests done and the lengths of the two files when they were.</summary>
    public static string StatePath(string output) => Path.ChangeExtension(output, ".instructions.state.json");

    /// <summary>Checks the options; the message names the flag.</summary>
    public void Validate()
    {
        if (Num < 1) throw new ArgumentException($"--num {Num} must be ≥ 1");
        if (FromSeeds < 1 || FromGenerated < 0) throw new ArgumentException($"few-shot examples: need ≥ 1 from the seeds (got {FromSeeds}) and ≥ 0 generated (got {FromGenerated})");
        if (MinWords < 1 || MaxWords < MinWords) throw new ArgumentException($"need 1 ≤ minimum words {MinWords} ≤ maximum words {MaxWords}");
        if (!(MaxRougeL is > 0 and <= 1)) throw new ArgumentException($"ROUGE-L threshold {MaxRougeL} must be in (0, 1]");
        if (MaxRequests < 1) throw new ArgumentException($"request limit {MaxRequests} must be ≥ 1");
    }
}
