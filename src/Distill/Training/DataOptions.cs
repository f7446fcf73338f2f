using Distill.Text.Conversations;

namespace Distill.Training;

/// <summary>The <c>data</c> section: what to train and validate on, and how to read it.</summary>
/// <param name="Path">
/// Training data (<c>path</c>): a logit cache folder (KD + SFT) or a conversations JSONL file (plain SFT).
/// </param>
/// <param name="ValData">Held-out data of the same kind (<c>val_data</c>), or null for no validation.</param>
/// <param name="TopK">Use only the first K columns of the cache's K (<c>top_k</c>); null for all of them.</param>
/// <param name="ChatFormat">Chat template to use for JSONL data (<c>chat_format</c>); null for the student's own.</param>
/// <param name="Verify">
/// Compare each cache shard's SHA-256 with the manifest before it is mapped (<c>verify</c>); rows loaded for training
/// are value-checked either way. Off (<c>--no-verify</c>) only saves one read of the cache at start.
/// </param>
/// <param name="MaxSeqLen">
/// Cut conversations to this many tokens (<c>max_seq_len</c>); null uses the student's <c>max_position_embeddings</c>,
/// the longest sequence its positions were trained for.
/// </param>
/// <param name="Supervise">Which assistant turns of a conversation are targets (<c>supervise</c>: all or last).</param>
/// <param name="SkipBad">Skip unusable JSONL lines and report them instead of stopping (<c>skip_bad</c>).</param>
public sealed record DataOptions(
    string Path = "",
    string? ValData = null,
    int? TopK = null,
    string? ChatFormat = null,
    bool Verify = true,
    int? MaxSeqLen = null,
    Supervise Supervise = Supervise.All,
    bool SkipBad = false);
