using System.CommandLine;
using Distill.Text.Conversations;

namespace Distill.Cli;

/// <summary>Options several commands share, declared once so their names, help and defaults cannot drift apart.</summary>
internal static class CommonOptions
{
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
    public static Option<string> Supervise()
    {
        var option = new Option<string>("--supervise") { Description = "Which assistant turns are targets", DefaultValueFactory = _ => "all" };
        option.AcceptOnlyFromAmong("all", "last");
        return option;
    }

    /// <summary>The <see cref="Text.Conversations.Supervise"/> of a <see cref="Supervise()"/> value.</summary>
    public static Supervise ParseSupervise(string? value) => value == "last" ? Text.Conversations.Supervise.Last : Text.Conversations.Supervise.All;

    /// <summary><c>--no-verify</c>: skip the up-front sha256 check of a logit cache's shards.</summary>
    public static Option<bool> NoVerify() => new("--no-verify")
    {
        Description = "Do not compare each cache shard's sha256 with the manifest when the cache is opened (done up front, one read " +
                      "of the cache); the rows loaded are still value-checked",
    };
}
