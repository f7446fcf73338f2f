using TorchSharp;

namespace Distill.LogitCache;

/// <summary>
/// The teacher rows of several examples as tensors, rows of the examples concatenated in the order asked for.
/// The tensors belong to the dispose scope that was current when they were made, or to this object's <see cref="Dispose"/>.
/// </summary>
/// <param name="Ids">[R, k] int32 teacher token ids, as stored (the loss widens them to int64 for <c>gather</c> on the device).</param>
/// <param name="Logits">[R, k] max-subtracted teacher logits in the cache's dtype (f32, bf16 or f16; the loss computes in fp32).</param>
/// <param name="LogSumExp">[R] float32 log-sum-exp over the whole vocabulary.</param>
/// <param name="RowCounts">Rows contributed by each requested example.</param>
public sealed record TopKBatch(torch.Tensor Ids, torch.Tensor Logits, torch.Tensor LogSumExp, int[] RowCounts) : IDisposable
{
    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Ids.Dispose();
        Logits.Dispose();
        LogSumExp.Dispose();
    }
}
