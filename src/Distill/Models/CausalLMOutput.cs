using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>One forward pass's outputs; the tensors live in the caller's dispose scope.</summary>
/// <param name="Logits">[B, T, V] in the model dtype, or null when not requested.</param>
/// <param name="LastHiddenState">[B, T, hidden] after the final norm.</param>
/// <param name="HiddenStates">Null unless requested; else num_hidden_layers + 1 tensors [B, T, hidden]:
/// the embeddings, the outputs of layers 0..L−2, and the final normed state (Hugging Face's convention).</param>
/// <param name="Attention">The attention inputs of the layers named by <see cref="CausalLMInput.CaptureAttention"/>, by layer; else null.</param>
public sealed record CausalLMOutput(Tensor? Logits, Tensor LastHiddenState, IReadOnlyList<Tensor>? HiddenStates,
    IReadOnlyDictionary<int, AttentionInputs>? Attention = null);
