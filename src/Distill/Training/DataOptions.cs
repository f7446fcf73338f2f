namespace Distill.Training;

/// <summary>The <c>data</c> section: what to train and validate on.</summary>
/// <param name="Path">
/// Training data (<c>path</c>): a logit cache folder (KD + SFT) or a conversations JSONL file (plain SFT).
/// </param>
/// <param name="ValData">Held-out data of the same kind (<c>val_data</c>), or null for no validation.</param>
/// <param name="TopK">Use only the first K columns of the cache's K (<c>top_k</c>); null for all of them.</param>
/// <param name="ChatFormat">Chat template to use for JSONL data (<c>chat_format</c>); null for the student's own.</param>
public sealed record DataOptions(string Path = "", string? ValData = null, int? TopK = null, string? ChatFormat = null);
