namespace Distill.Models;

/// <summary>How <see cref="HfModelFolder.Save"/> writes a model folder.</summary>
public sealed record HfSaveOptions
{
    /// <summary>Hugging Face's default shard size (5 GB, decimal as it counts).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Folder to carry generation_config.json and the tokenizer files from; null means the folder the
    /// model's config.json was loaded from, when there is one.
    /// </summary>
    public string? SourceDirectory { get; init; }

    /// <summary>Weights above this many bytes are split into shards with an index file.</summary>
    public long MaxShardBytes { get; init; } = DefaultMaxShardBytes;

    /// <summary>Replace an existing non-empty folder (only once the new one is complete).</summary>
    public bool Overwrite { get; init; }
}
