using Distill.Generation;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>One forward pass's inputs.</summary>
public sealed record CausalLMInput
{
    /// <summary>[B, T] int64 token ids.</summary>
    public required Tensor InputIds { get; init; }

    /// <summary>
    /// [B, T], 1 for real tokens and 0 for padding (left or right); null when nothing is padded. With a
    /// <see cref="Cache"/> it covers the cached and the new positions, [B, S + T] (Hugging Face's convention), so
    /// padded rows keep their real positions and never attend to padding.
    /// </summary>
    public Tensor? AttentionMask { get; init; }

    /// <summary>False returns only the final normed hidden states, so a loss can project them in chunks.</summary>
    public bool ComputeLogits { get; init; } = true;

    /// <summary>True also returns the embeddings and every layer's output (the last one after the final norm).</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>Layers (0-based) whose attention inputs to return in <see cref="CausalLMOutput.Attention"/>; null for none.</summary>
    public IReadOnlySet<int>? CaptureAttention { get; init; }

    /// <summary>
    /// Keys and values of earlier positions: the tokens of <see cref="InputIds"/> continue them (positions S.., where S
    /// is <see cref="KvCache.Length"/>) and are appended to them; padded input gives <see cref="AttentionMask"/> over
    /// all S + T positions.
    /// </summary>
    public KvCache? Cache { get; init; }

    /// <summary>Set by a caller that has already checked every id against the vocabulary, so the forward pass skips
    /// its own check (a host sync, paid per step by a decoding loop).</summary>
    internal bool IdsInVocabulary { get; init; }
}

/// <summary>One forward pass's outputs; the tensors live in the caller's dispose scope.</summary>
/// <param name="Logits">[B, T, V] in the model dtype, or null when not requested.</param>
/// <param name="LastHiddenState">[B, T, hidden] after the final norm.</param>
/// <param name="HiddenStates">Null unless requested; else num_hidden_layers + 1 tensors [B, T, hidden]:
/// the embeddings, the outputs of layers 0..L−2, and the final normed state (Hugging Face's convention).</param>
/// <param name="Attention">The attention inputs of the layers named by <see cref="CausalLMInput.CaptureAttention"/>, by layer; else null.</param>
public sealed record CausalLMOutput(Tensor? Logits, Tensor LastHiddenState, IReadOnlyList<Tensor>? HiddenStates,
    IReadOnlyDictionary<int, AttentionInputs>? Attention = null);
