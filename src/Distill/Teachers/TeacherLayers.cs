using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// A live teacher's intermediate states for feature distillation, kept for the mapped layers only.
/// </summary>
/// <param name="Hidden">By teacher layer: [R, Ht] the state after that layer at the feature rows.</param>
/// <param name="Attention">By teacher layer: its attention inputs over the whole micro-batch.</param>
public sealed record TeacherLayers(IReadOnlyDictionary<int, Tensor> Hidden, IReadOnlyDictionary<int, AttentionInputs> Attention);
