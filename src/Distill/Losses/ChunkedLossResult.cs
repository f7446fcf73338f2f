using static TorchSharp.torch;

namespace Distill.Losses;

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
