using Distill.Tensors;
using TorchSharp;

namespace Distill.LogitCache;

/// <summary>Tensor names of a shard (docs/FORMAT.md) and the encoding of a run of examples into them.</summary>
internal static class ShardTensors
{
    public const string InputIds = "input_ids";
    public const string LossMask = "loss_mask";
    public const string ExampleOffsets = "example_offsets";
    public const string TopKIds = "topk_ids";
    public const string TopKLogits = "topk_logits";
    public const string LogSumExp = "logsumexp";

    /// <summary>The shard file name for examples [first, end): fixed-width so names sort in example order.</summary>
    public static string FileName(long first, long end) => $"shard-{first:D9}-{end:D9}.safetensors";

    /// <summary>Bytes an example adds to a shard's data buffer (the header is small and ignored).</summary>
    public static long DataBytes(CacheExample e, int logitElementSize) =>
        e.InputIds.Length * 5L + 8 + (long)e.Rows * e.TopK * (4 + logitElementSize) + e.Rows * 4L;

    /// <summary>Writes <paramref name="examples"/> as one shard at <paramref name="path"/> (temp file, then rename).</summary>
    public static (long Rows, long Tokens) Write(string path, IReadOnlyList<CacheExample> examples, int topK, SafetensorsDType logitDType)
    {
        long tokens = 0, rows = 0;
        foreach (var e in examples)
        {
            tokens += e.InputIds.Length;
            rows += e.Rows;
        }
        var ids = new int[tokens];
        var mask = new byte[tokens];
        var offsets = new long[examples.Count + 1];
        var topIds = new int[rows * topK];
        var topLogits = new float[rows * topK];
        var lse = new float[rows];
        long t = 0, r = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            offsets[i] = t;
            e.InputIds.CopyTo(ids, t);
            e.LossMask.CopyTo(mask, t);
            e.TopKIds.CopyTo(topIds, r * topK);
            e.TopKLogits.CopyTo(topLogits, r * topK);
            e.LogSumExp.CopyTo(lse, r);
            t += e.InputIds.Length;
            r += e.Rows;
        }
        offsets[^1] = t;

        using var scope = torch.NewDisposeScope();
        // Widest dtype first, so every tensor starts at a multiple of its element size (the data buffer is 8-aligned).
        var tensors = new List<KeyValuePair<string, torch.Tensor>>
        {
            new(ExampleOffsets, torch.tensor(offsets)),
            new(InputIds, torch.tensor(ids)),
            new(TopKIds, torch.tensor(topIds).reshape(rows, topK)),
            new(LogSumExp, torch.tensor(lse)),
            // torch rounds fp32 to bf16/f16 to nearest-even, the rounding every reader of these dtypes assumes.
            new(TopKLogits, torch.tensor(topLogits).reshape(rows, topK).to(DTypes.ToTorch(logitDType))),
            new(LossMask, torch.tensor(mask)),
        };
        SafetensorsWriter.Write(path, tensors);
        return (rows, tokens);
    }
}
