using Distill.Generation;
using TorchSharp;
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

/// <summary>One layer's attention inputs: queries and keys after the rotary embedding, and values.</summary>
/// <param name="Query">[B, heads, T, D].</param>
/// <param name="Key">[B, kv_heads, T, D] (before grouped heads are repeated).</param>
/// <param name="Value">[B, kv_heads, T, D].</param>
public sealed record AttentionInputs(Tensor Query, Tensor Key, Tensor Value);

/// <summary>
/// Keeps the attention inputs of chosen layers during one forward pass (what relation distillation compares), in the
/// dispose scope of the model's forward, which hands them to its caller. Gradients flow through them as usual.
/// </summary>
public sealed class AttentionCapture
{
    private readonly Dictionary<int, AttentionInputs> _captured = [];
    private readonly IReadOnlySet<int> _layers;
    private readonly DisposeScope _scope;

    internal AttentionCapture(IReadOnlySet<int> layers, DisposeScope scope) => (_layers, _scope) = (layers, scope);

    /// <summary>What has been captured, by layer index.</summary>
    public IReadOnlyDictionary<int, AttentionInputs> Captured => _captured;

    /// <summary>Keeps <paramref name="layer"/>'s tensors when it is one of the chosen layers.</summary>
    public void Keep(int layer, Tensor query, Tensor key, Tensor value)
    {
        if (!_layers.Contains(layer)) return;
        _captured[layer] = new AttentionInputs(query.MoveToOtherDisposeScope(_scope), key.MoveToOtherDisposeScope(_scope),
            value.MoveToOtherDisposeScope(_scope));
    }
}
