using Distill.Generation;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>One forward pass's inputs.</summary>
public sealed record CausalLMInput
{
    /// <summary>[B, T] int64 token ids.</summary>
    public required Tensor InputIds { get; init; }

    /// <summary>[B, T], 1 for real tokens and 0 for padding (left or right); null when nothing is padded.</summary>
    public Tensor? AttentionMask { get; init; }

    /// <summary>False returns only the final normed hidden states, so a loss can project them in chunks.</summary>
    public bool ComputeLogits { get; init; } = true;

    /// <summary>True also returns the embeddings and every layer's output (the last one after the final norm).</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>
    /// Keys and values of earlier positions: the tokens of <see cref="InputIds"/> continue them (positions S.., where S
    /// is <see cref="KvCache.Length"/>) and are appended to them. Needs unpadded input (no <see cref="AttentionMask"/>).
    /// </summary>
    public KvCache? Cache { get; init; }
}
