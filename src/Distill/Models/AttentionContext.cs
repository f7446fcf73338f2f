using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>What every layer's attention shares for one forward pass.</summary>
/// <param name="Cos">[B, T, D] rotary cosines in the model dtype.</param>
/// <param name="Sin">[B, T, D] rotary sines in the model dtype.</param>
/// <param name="Mask">[B, 1, T, T] bool, true where query t may attend to key s; null means plain causal.</param>
public sealed record AttentionContext(Tensor Cos, Tensor Sin, Tensor? Mask);
