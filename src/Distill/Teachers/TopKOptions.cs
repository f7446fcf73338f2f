using Distill.LogitCache;
using Distill.Text.Conversations;
using TorchSharp;

namespace Distill.Teachers;

/// <summary>Settings of one <c>distill topk</c> run (<see cref="TopKRunner.Run"/>).</summary>
public sealed record TopKOptions
{
    /// <summary>Hugging Face folder of the teacher (config.json, safetensors, tokenizer files); null with <see cref="TeacherUrl"/>.</summary>
    public string? Teacher { get; init; }

    /// <summary>An OpenAI-compatible server as the teacher (black-box: its top log-probabilities, K ≤ 20); null with <see cref="Teacher"/>.</summary>
    public string? TeacherUrl { get; init; }

    /// <summary>The model to ask <see cref="TeacherUrl"/> for; null takes the first of its /v1/models.</summary>
    public string? TeacherModel { get; init; }

    /// <summary>With <see cref="TeacherUrl"/>: the folder whose tokenizer and chat template tokenize the data (the student's), and
    /// whose ids the server's tokens are mapped to.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>With <see cref="TeacherUrl"/>: requests in flight at most.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>The folder that tokenizes the data: the teacher's, or <see cref="Tokenizer"/> for a served teacher.</summary>
    public string TokenizerFolder => Teacher ?? Tokenizer!;

    /// <summary>The conversations, JSONL.</summary>
    public required string Data { get; init; }

    /// <summary>The cache folder to write (created when missing; resumed when it holds this run's shards).</summary>
    public required string Output { get; init; }

    /// <summary>K.</summary>
    public int TopK { get; init; } = 100;

    /// <summary>Cut examples to this many tokens (<c>--max-seq-len</c>); null uses the teacher's <c>max_position_embeddings</c>.</summary>
    public int? MaxSeqLen { get; init; }

    /// <summary>The teacher's compute dtype (fp32 or bf16); the logits are taken to fp32 either way.</summary>
    public torch.ScalarType ComputeDType { get; init; } = torch.ScalarType.Float32;

    /// <summary>Storage dtype of the cached logits: "f32", "bf16" or "f16".</summary>
    public string LogitDType { get; init; } = "f32";

    /// <summary>Padded tokens per forward pass (batch size × longest example).</summary>
    public long BatchTokens { get; init; } = 8192;

    /// <summary>The slice of the examples this run computes; null for all of them.</summary>
    public CacheSlice? Slice { get; init; }

    /// <summary>A built-in chat template to use instead of the teacher's own.</summary>
    public string? ChatFormat { get; init; }

    /// <summary>Which assistant turns are targets.</summary>
    public Supervise Supervise { get; init; } = Supervise.All;

    /// <summary>The layout of the JSONL lines.</summary>
    public ConversationFormat Format { get; init; } = ConversationFormat.Auto;

    /// <summary>Skip unusable lines (reported in the result) instead of stopping.</summary>
    public bool SkipBad { get; init; }

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Where shard boundaries fall.</summary>
    public LogitCacheWriterOptions Writer { get; init; } = new();

    /// <summary>
    /// Examples sorted by length together. Windows are fixed cells of the global example index that divide the shard
    /// grid, so a slice or a resumed run batches every example exactly as one uninterrupted run does; the window's
    /// results are held in memory until written in order.
    /// </summary>
    public int WindowExamples { get; init; } = 256;

    /// <summary>Largest [rows, V] fp32 block projected at once (see <see cref="TopKTeacher"/>).</summary>
    public long ChunkElements { get; init; } = TopKTeacher.DefaultChunkElements;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if ((Teacher is null) == (TeacherUrl is null)) throw new ArgumentException("give one teacher: a model folder (--teacher) or a server (--teacher-url)");
        if (TeacherUrl is not null && Tokenizer is null)
            throw new ArgumentException("a served teacher needs --tokenizer: the (student's) folder whose tokenizer tokenizes the data");
        if (TopK < 1) throw new ArgumentException($"top_k must be ≥ 1, got {TopK}");
        if (TeacherUrl is not null && TopK > RemoteTeacher.MaxTopK)
            throw new ArgumentException($"top_k = {TopK} with a served teacher must be at most {RemoteTeacher.MaxTopK}: OpenAI returns at most {RemoteTeacher.MaxTopK} " +
                "top log-probabilities per token and vLLM's default --max-logprobs is 20");
        if (Concurrency < 1) throw new ArgumentException($"concurrency must be ≥ 1, got {Concurrency}");
        if (MaxSeqLen is < 2) throw new ArgumentException($"max_seq_len must be ≥ 2 (one context token and one target), got {MaxSeqLen}");
        if (ComputeDType is not (torch.ScalarType.Float32 or torch.ScalarType.BFloat16))
            throw new ArgumentException($"compute dtype must be fp32 or bf16, got {ComputeDType}");
        if (LogitDTypes.TryParse(LogitDType) is null) throw new ArgumentException($"logit dtype must be f32, bf16 or f16, got '{LogitDType}'");
        if (BatchTokens < 1) throw new ArgumentException($"batch_tokens must be ≥ 1, got {BatchTokens}");
        if (WindowExamples < 1 || Writer.ExamplesPerShard % WindowExamples != 0)
            throw new ArgumentException($"window_examples ({WindowExamples}) must divide examples_per_shard ({Writer.ExamplesPerShard})");
        if (ChunkElements < 1) throw new ArgumentException($"chunk_elements must be ≥ 1, got {ChunkElements}");
        Writer.Validate();
    }
}
