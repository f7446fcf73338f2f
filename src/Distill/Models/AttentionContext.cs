using Distill.Generation;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>What every layer's attention shares for one forward pass.</summary>
/// <param name="Cos">[B, T, D] rotary cosines in the model dtype.</param>
/// <param name="Sin">[B, T, D] rotary sines in the model dtype.</param>
/// <param name="Mask">[B, 1, T, T] bool, true where query t may attend to key s; null means plain causal.
/// With a cache: [1, 1, T, S + T] over the cached and new keys, never null.</param>
/// <param name="Cache">Earlier keys and values, which each layer extends; null for a plain forward pass.</param>
/// <param name="Capture">Keeps chosen layers' attention inputs; null for none.</param>
public sealed record AttentionContext(Tensor Cos, Tensor Sin, Tensor? Mask, KvCache? Cache = null, AttentionCapture? Capture = null);
