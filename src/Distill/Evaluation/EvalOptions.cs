namespace Distill.Evaluation;

/// <summary>What <see cref="EvalRunner.Run"/> evaluates, as <c>distill eval</c> takes it.</summary>
public sealed record EvalOptions
{
    /// <summary>Hugging Face folder of the model evaluated (<c>--model</c>).</summary>
    public required string Model { get; init; }

    /// <summary>Held-out conversations, JSONL (<c>--data</c>).</summary>
    public required string Data { get; init; }

    /// <summary>Teacher model folder for full-vocabulary KL and agreement (<c>--teacher</c>); exclusive with <see cref="Cache"/>.</summary>
    public string? Teacher { get; init; }

    /// <summary>Logit cache made from <see cref="Data"/> for top-K KL and agreement (<c>--cache</c>).</summary>
    public string? Cache { get; init; }

    /// <summary>Also generate greedy answers and score them (<c>--generate</c>).</summary>
    public bool Generate { get; init; }

    /// <summary>Token limit per generated answer (<c>--max-new-tokens</c>), ≥ 1.</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Examples per forward pass (<c>--batch-size</c>), ≥ 1.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Built-in chat template instead of the model's (<c>--chat-format</c>).</summary>
    public string? ChatFormat { get; init; }

    /// <summary>cpu, cuda or cuda:N (<c>--device</c>).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>fp32 or bf16 (<c>--dtype</c>).</summary>
    public string DType { get; init; } = "fp32";

    /// <summary>Compare the cache's shard checksums with its manifest when it is opened (off: <c>--no-verify</c>).</summary>
    public bool Verify { get; init; } = true;

    /// <summary>Cut held-out examples to this many tokens (<c>--max-seq-len</c>); null uses the model's max_position_embeddings.</summary>
    public int? MaxSeqLen { get; init; }
}
