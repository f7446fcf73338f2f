using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Per-token parts of the objective, each [N]: <c>Total = kd_weight·Kd + sft_weight·Sft</c>, where Kd already
/// includes the T² factor when enabled. Kd and Sft are also reported when their weight is 0 (for logging);
/// then they carry no gradient.
/// </summary>
public sealed record KdLossTerms(Tensor Total, Tensor Kd, Tensor Sft);
