using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Output projection + loss in chunks of tokens, so the [tokens × vocab] fp32 logits of a micro-batch never
/// exist at once (8192 tokens × 128k vocab × 4 B = 4 GiB, plus as much again for softmax and gradient):
/// peak memory is [chunk × vocab] instead (the Liger-Kernel / torchtune approach).
/// </summary>
/// <remarks>
/// How gradients flow back: each chunk computes logits = h[chunk]·Wᵀ without a graph and gets dLoss/dlogits of its
/// Σ(loss·mask)/normaliser, written down by <see cref="LogitGradient"/> in the logits' own storage (SFT, top-K) or left
/// in the .grad of the logits made a leaf by stock autograd (the full-vocabulary divergences); the two projections of
/// that gradient are done here: the chunk's rows of the hidden-state gradient (dlogits·W, written into one [N, H]
/// buffer) and W's gradient (dlogitsᵀ·h added into W.grad in place with addmm_). Then the chunk's logits, their
/// gradient and any loss graph are freed. The caller finishes with <c>hidden.backward(new[] { result.HiddenGrad })</c>
/// through the model. By linearity this is exactly the gradient of the unchunked loss.
/// Why the projection's backward is by hand (memory, bench train_memory): autograd's matmul backward materialises
/// a fresh [V, H] gradient for W every chunk and adds it to W.grad (250 MiB at vocab 128256 × hidden 512, as large
/// as two [256 × V] chunks), and the narrow of a leaf [N, H] materialises a zero [N, H] gradient every chunk; both
/// are odd-sized blocks that split the heap's free [chunk × V] holes, so that with <c>NativeHeap.KeepFreedMemory</c>
/// the heap grew chunk after chunk. Now every large block of the loop is one [chunk × V] size (4 × 512 tokens, vocab
/// 128256, fp32, 256-row chunks: the heap grew 1378 MiB over the loop before, 626 MiB now, for 1162 MiB live).
/// TorchSharp 0.107 does offer custom autograd functions (torch.autograd.SingleTensorFunction /
/// MultiTensorFunction), which would allow a single backward call, but they need a hand-written backward per
/// divergence (or Liger's gradient-in-forward trick) that must be kept in sync with each formula.
/// </remarks>
public static class ChunkedLoss
{
    /// <summary>
    /// Training path: computes the micro-batch's loss chunk by chunk, accumulates W's gradient (when W requires
    /// grad) and returns the gradient for <paramref name="hidden"/>.
    /// </summary>
    /// <param name="hidden">[N, H] final hidden states from the model (after the final norm).</param>
    /// <param name="outputWeight">[V, H] output projection (lm_head.weight, or the tied embedding).</param>
    /// <param name="targets">Labels, mask and teacher signal for the N rows.</param>
    /// <param name="objective">The objective.</param>
    /// <param name="chunkSize">Rows per chunk, ≥ 1.</param>
    /// <param name="normaliser">max(Σmask over the whole global batch, 1), see <see cref="LossReduction"/>.</param>
    public static ChunkedLossResult Backward(Tensor hidden, Tensor outputWeight, LossTargets targets,
        KdObjective objective, int chunkSize, double normaliser)
    {
        CheckArguments(hidden, outputWeight, targets, objective, chunkSize);
        if (!(normaliser > 0) || double.IsInfinity(normaliser))
            throw new ArgumentOutOfRangeException(nameof(normaliser), normaliser, "normaliser must be finite and > 0");
        targets.CheckIds(outputWeight.shape[0]);
        using var scope = NewDisposeScope();
        var grad = zeros_like(hidden);                                                     // [N, H]
        var sums = BackwardChunks(hidden, outputWeight, grad, targets, objective, chunkSize, normaliser);
        var values = LossMath.ReadToHost<double>(sums);                                      // the one host read after the loop
        return new ChunkedLossResult(values[0] / normaliser, values[1] / normaliser, values[2] / normaliser,
            grad.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The chunk loop of <see cref="Backward"/> on [N, H] hidden states whose ids were checked: writes dLoss/dhidden into
    /// <paramref name="hiddenGrad"/>, adds W's gradient into its .grad (when W requires grad) and returns the [3] fp64
    /// sums (total, kd, sft) still on the device. Nothing in it reads a value back to the host, so on a GPU the chunks
    /// queue without waiting (a test counts the reads, <see cref="LossMath.HostReads"/>).
    /// </summary>
    internal static Tensor BackwardChunks(Tensor hidden, Tensor outputWeight, Tensor hiddenGrad, LossTargets targets, KdObjective objective, int chunkSize, double normaliser)
    {
        using var scope = NewDisposeScope();
        var states = hidden.detach();                                                      // [N, H]
        var weight = outputWeight.detach();                                                // [V, H]
        var trainsWeight = TrainsWeight(outputWeight);
        var sums = zeros(3, dtype: ScalarType.Float64, device: hidden.device);              // total, kd, sft
        for (long start = 0; start < targets.Rows; start += chunkSize)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(chunkSize, targets.Rows - start);
            var rows = states.narrow(0, start, length);                                    // [c, H]
            Tensor logits;
            // [c, V] in the model's dtype (a bf16 matmul is several times faster on CPU, as Hugging Face
            // models do it); the loss upcasts to fp32.
            using (no_grad()) logits = rows.matmul(weight.t());
            var chunk = targets.Slice(start, length);
            KdLossTerms terms;
            Tensor dLogits;                                                                 // [c, V], the logits' dtype
            if (LogitGradient.Applies(objective, chunk.Teacher))
            {
                // SFT and top-K KD: the [c, V] gradient written down from one exp pass (LogitGradient), in the logits'
                // own storage when they are fp32, so the chunk holds one [c, V] block.
                (terms, dLogits) = LogitGradient.PerToken(objective, logits, chunk.Labels, chunk.Teacher, chunk.Mask, normaliser, overwriteLogits: true);
            }
            else
            {
                // A leaf, so the backward below stops at it.
                logits.requires_grad_(true);
                terms = KdLoss.PerToken(objective, logits, chunk.Labels, chunk.Teacher, checkIds: false);
                LossReduction.Normalised(terms.Total, chunk.Mask, normaliser).backward();
                dLogits = logits.grad!;
            }
            AccumulateSums(sums, terms, chunk.Mask);
            using var noGrad = no_grad();
            hiddenGrad.narrow(0, start, length).copy_(dLogits.matmul(weight));               // [c, H]
            if (trainsWeight) AccumulateWeightGrad(outputWeight, dLogits, rows);
        }
        return sums.MoveToOuterDisposeScope();
    }

    // True when W takes a gradient; only a leaf has a .grad to fill.
    private static bool TrainsWeight(Tensor outputWeight)
    {
        if (!outputWeight.requires_grad) return false;
        if (!outputWeight.is_leaf)
            throw new ArgumentException("the output weight must be a leaf tensor (a parameter): the chunked loss adds its gradient into .grad");
        return true;
    }

    // W.grad += dᵀ·h in place ([V, H]). When a zero_grad set it to none, the first chunk makes it from its own product,
    // after that chunk's backward, so a one-chunk pass does not hold a W-sized zero through its peak.
    private static void AccumulateWeightGrad(Tensor outputWeight, Tensor dLogits, Tensor rows)
    {
        if (outputWeight.grad is { } grad) grad.addmm_(dLogits.t(), rows);
        else outputWeight.grad = dLogits.t().matmul(rows);
    }

    /// <summary>Evaluation path: no gradients, returns masked sums and the token count of this batch.</summary>
    /// <inheritdoc cref="Backward"/>
    public static LossSums Evaluate(Tensor hidden, Tensor outputWeight, LossTargets targets, KdObjective objective, int chunkSize)
    {
        CheckArguments(hidden, outputWeight, targets, objective, chunkSize);
        targets.CheckIds(outputWeight.shape[0]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sums = zeros(3, dtype: ScalarType.Float64, device: hidden.device);
        for (long start = 0; start < targets.Rows; start += chunkSize)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(chunkSize, targets.Rows - start);
            var logits = hidden.narrow(0, start, length).matmul(outputWeight.t());         // [c, V]
            var chunk = targets.Slice(start, length);
            AccumulateSums(sums, KdLoss.PerToken(objective, logits, chunk.Labels, chunk.Teacher, checkIds: false), chunk.Mask);
        }
        var values = LossMath.ReadToHost<double>(sums);
        return new LossSums(values[0], values[1], values[2], LossReduction.Count(targets.Mask, targets.Rows));
    }

    // Sums stay on the device as one fp64 tensor and are read once at the end: one host sync per call
    // instead of three per chunk.
    private static void AccumulateSums(Tensor sums, KdLossTerms terms, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parts = stack(new[]
        {
            LossReduction.MaskedSum(terms.Total.detach(), mask),
            LossReduction.MaskedSum(terms.Kd.detach(), mask),
            LossReduction.MaskedSum(terms.Sft.detach(), mask),
        });
        sums.add_(parts.to_type(ScalarType.Float64));
    }

    private static void CheckArguments(Tensor hidden, Tensor outputWeight, LossTargets targets, KdObjective objective, int chunkSize)
    {
        objective.Validate();
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunk size must be >= 1");
        if (hidden.dim() != 2 || outputWeight.dim() != 2 || hidden.shape[1] != outputWeight.shape[1])
            throw new ArgumentException($"hidden [{string.Join(", ", hidden.shape)}] and output weight [{string.Join(", ", outputWeight.shape)}] must be [N, H] and [V, H]");
        if (hidden.shape[0] != targets.Rows)
            throw new ArgumentException($"hidden has {hidden.shape[0]} rows but the targets have {targets.Rows}");
    }
}

/// <summary>
/// Outcome of <see cref="ChunkedLoss.Backward"/>: the micro-batch's loss and its parts, each Σ(·mask) divided
/// by the global normaliser (so summing over the micro-batches of a step gives the step's loss), and the
/// gradient of that loss w.r.t. the hidden states, which the caller passes to <c>hidden.backward(new[] { HiddenGrad })</c>.
/// </summary>
/// <param name="Loss">Normalised total loss of this micro-batch.</param>
/// <param name="Kd">Normalised KD part (before kd_weight).</param>
/// <param name="Sft">Normalised CE part (before sft_weight).</param>
/// <param name="HiddenGrad">[N, H] dLoss/dHidden in the hidden states' dtype, owned by the caller's dispose scope.</param>
public sealed record ChunkedLossResult(double Loss, double Kd, double Sft, Tensor HiddenGrad);
