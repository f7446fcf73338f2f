using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Generation;

/// <summary>
/// Per-layer keys and values of the tokens already seen, so each new token costs one position of work instead of
/// a full recomputation. Keys are stored after the rotary embedding and before grouped heads are repeated:
/// [B, KV, S, D] per layer. Grows by concatenation (a copy per step, O(S) each, fine for evaluation lengths);
/// owns its tensors, which live outside every dispose scope until <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;
    private bool _disposed;

    /// <summary>An empty cache for a model with <paramref name="layers"/> decoder layers.</summary>
    public KvCache(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Number of decoder layers.</summary>
    public int Layers => _keys.Length;

    /// <summary>Positions cached, S (the last layer's, so a forward pass in progress does not count yet).</summary>
    public long Length => _keys[^1]?.shape[2] ?? 0;

    /// <summary>
    /// Appends <paramref name="keys"/> and <paramref name="values"/> [B, KV, T, D] to layer <paramref name="layer"/>
    /// and returns all of that layer's keys and values [B, KV, S + T, D]; the returned tensors belong to the cache.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layers);
        _keys[layer] = Grow(_keys[layer], keys);
        _values[layer] = Grow(_values[layer], values);
        return (_keys[layer]!, _values[layer]!);
    }

    /// <summary>
    /// Keeps only batch rows <paramref name="rows"/> (in that order) of every layer, so finished sequences stop costing
    /// attention and cache copies: one gather per layer, O(cache size), paid only when a row finishes.
    /// </summary>
    public void KeepRows(IReadOnlyList<long> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? index = null;
        for (var i = 0; i < Layers; i++)
        {
            if (_keys[i] is null) continue;
            index ??= tensor(rows.ToArray(), device: _keys[i]!.device);
            _keys[i] = Replace(_keys[i]!, _keys[i]!.index_select(0, index));
            _values[i] = Replace(_values[i]!, _values[i]!.index_select(0, index));
        }
    }

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (var i = 0; i < Layers; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }

    private static Tensor Replace(Tensor old, Tensor kept)
    {
        kept.DetachFromDisposeScope();
        old.Dispose();
        return kept;
    }

    private static Tensor Grow(Tensor? old, Tensor added)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grown = old is null ? added.detach().clone() : cat(new[] { old, added.detach() }, 2);
        grown.DetachFromDisposeScope();
        old?.Dispose();
        return grown;
    }
}
