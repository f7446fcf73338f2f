using TorchSharp;

namespace Distill.LogitCache;

/// <summary>
/// The teacher rows of several examples as tensors, rows of the examples concatenated in the order asked for.
/// The tensors belong to the dispose scope that was current when they were made, or to this object's <see cref="Dispose"/>.
/// </summary>
/// <param name="Ids">[R, k] int64 teacher token ids (int64 so they index <c>gather</c> directly).</param>
/// <param name="Logits">[R, k] float32 max-subtracted teacher logits.</param>
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
