using System.CommandLine;
using Distill.Text.Conversations;
using Distill.Text.Templates;

namespace Distill.Cli;

/// <summary>
/// Options several commands share, declared once so their names, accepted values and help cannot drift apart. None
/// carries a default of its own: a command shows and applies its library record's default (<see cref="RecordOptions{T}"/>,
/// or the recipe keys of <c>train</c>).
/// </summary>
internal static class CommonOptions
{
    /// <summary>The compute dtype names every command accepts: Distill's short names and Hugging Face's long ones.</summary>
    public static readonly string[] DTypeNames = ["fp32", "bf16", "float32", "bfloat16"];

    /// <summary>
    /// <c>--threads N</c> on every command (one instance, recursive from the root): libtorch's intra-op threads, by
    /// default <see cref="DefaultThreads"/>.
    /// </summary>
    public static Option<int?> Threads { get; } = CreateThreads();

    /// <summary>
    /// The intra-op threads of every command without <c>--threads</c>: 1, not libtorch's one per core. Measured by
    /// <c>bench threads</c> on the ~45M bench Llama on two shared cores (docs/PERFORMANCE.md, "Threads"): one thread was
    /// faster for a training step (train), the teacher's top-K pass (topk, and eval's forward passes) and decoding
    /// (generate, serve, demo) in every round, because a team of threads waits at every op for its slowest member and a
    /// core taken by another process makes that member slow (the demo's first measurement: 66 s with one thread against
    /// 12 minutes with two, beside another job). Large models on idle cores want <c>--threads</c> = cores.
    /// </summary>
    public const int DefaultThreads = 1;

    /// <summary><c>--device cpu|cuda|cuda:N</c>; <paramref name="whose"/> prefixes the help ("Local teacher: ").</summary>
    public static Option<string?> Device(string whose = "") => new("--device") { Description = $"{whose}cpu, cuda or cuda:N" };

    /// <summary><c>--dtype fp32|bf16</c> (aliases <c>float32|bfloat16</c>), or another option of the same values such as <c>--teacher-dtype</c>.</summary>
    public static Option<string?> DType(string what, string name = "--dtype")
    {
        var option = new Option<string?>(name) { Description = $"{what}; float32 and bfloat16 are other names of fp32 and bf16" };
        option.AcceptOnlyFromAmong(DTypeNames);
        return option;
    }

    /// <summary><c>--chat-format NAME</c>: one of the library's built-in chat templates (<see cref="ChatTemplate.BuiltInFormats"/>, which --help lists).</summary>
    public static Option<string?> ChatFormat(string what = "Built-in chat template to use instead of the model's")
    {
        var option = new Option<string?>("--chat-format") { Description = what };
        option.AcceptOnlyFromAmong([.. ChatTemplate.BuiltInFormats]);
        return option;
    }

    /// <summary><c>--format auto|messages|nemo|prompt-completion</c>: the layout of chat JSONL lines.</summary>
    public static Option<string?> ConversationFormat()
    {
        var option = new Option<string?>("--format") { Description = "Layout of the JSONL lines" };
        option.AcceptOnlyFromAmong([.. ConversationFormats.ByName.Keys]);
        return option;
    }

    /// <summary><c>--json</c>: machine-readable output instead of text; <paramref name="description"/> says what is printed.</summary>
    public static Option<bool> Json(string description) => new("--json") { Description = description };

    /// <summary><c>--max-seq-len N</c>: the truncation rule of every tokenizing command (docs/FORMAT.md, "Length").</summary>
    public static Option<int?> MaxSeqLen()
    {
        var option = new Option<int?>("--max-seq-len")
        {
            Description = "Cut examples to this many tokens, dropping their end; one left with no supervised token is a bad line " +
                          "(default: the model's max_position_embeddings). The number cut is reported at the end",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 2) result.AddError("--max-seq-len must be at least 2 (one context token and one target)");
        });
        return option;
    }

    /// <summary><c>--skip-bad</c>: skip unusable JSONL lines (bad JSON, not UTF-8, nothing supervised) and list them at the end.</summary>
    public static Option<bool> SkipBad() => new("--skip-bad") { Description = "Skip unusable lines and report them at the end instead of stopping" };

    /// <summary><c>--supervise all|last</c>: which assistant turns are targets.</summary>
    public static Option<string?> Supervise()
    {
        var option = new Option<string?>("--supervise") { Description = "Which assistant turns are targets" };
        option.AcceptOnlyFromAmong("all", "last");
        return option;
    }

    /// <summary>The <see cref="Text.Conversations.Supervise"/> of a <see cref="Supervise()"/> value.</summary>
    public static Supervise ParseSupervise(string value) => value == "last" ? Text.Conversations.Supervise.Last : Text.Conversations.Supervise.All;

    /// <summary>The <see cref="Supervise()"/> spelling of <paramref name="value"/>, for --help.</summary>
    public static string SuperviseName(Supervise value) => value == Text.Conversations.Supervise.Last ? "last" : "all";

    /// <summary><c>--no-verify</c>: skip the up-front sha256 check of a logit cache's shards.</summary>
    public static Option<bool> NoVerify() => new("--no-verify")
    {
        Description = "Do not compare each cache shard's sha256 with the manifest when the cache is opened (done up front, one read " +
                      "of the cache); the rows loaded are still value-checked",
    };

    private static Option<int?> CreateThreads()
    {
        var threads = new Option<int?>("--threads")
        {
            Description = $"CPU threads for tensor operations (default: {DefaultThreads}, the fastest for small models on a shared machine; " +
                          "give the core count for a large model on idle cores)",
            Recursive = true,
        };
        threads.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--threads must be at least 1");
        });
        return threads;
    }
}
