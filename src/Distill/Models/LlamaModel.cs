using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>The decoder stack: embeddings, layers and the final norm (Hugging Face's <c>model.*</c>).</summary>
public sealed class LlamaModel : nn.Module<CausalLMInput, CausalLMOutput>
{
    private readonly LlamaConfig _config;

    /// <summary>HF name: embed_tokens [V, hidden].</summary>
    private readonly Embedding embed_tokens;

    /// <summary>HF name: layers.N.</summary>
    private readonly ModuleList<LlamaDecoderLayer> layers;

    /// <summary>HF name: norm, applied after the last layer.</summary>
    private readonly LlamaRMSNorm norm;

    /// <summary>Rotary tables; holds nothing that is saved.</summary>
    private readonly LlamaRotaryEmbedding rotary_emb;

    /// <summary>Creates the stack for <paramref name="config"/>.</summary>
    public LlamaModel(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlamaModel))
    {
        _config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, config.PaddingIndex, device: device, dtype: dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new LlamaDecoderLayer(config, device, dtype, i)).ToArray());
        norm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        rotary_emb = new LlamaRotaryEmbedding(config, device);
        RegisterComponents();
    }

    /// <summary>[V, hidden] embedding matrix (also the output projection when tied).</summary>
    public Parameter EmbeddingWeight => embed_tokens.weight!;

    /// <summary>Runs the stack; <see cref="CausalLMOutput.Logits"/> is always null here.</summary>
    public override CausalLMOutput forward(CausalLMInput input)
    {
        var ids = input.InputIds;
        ValidateInput(input);
        using var scope = NewDisposeScope();
        var (batch, length) = (ids.shape[0], ids.shape[1]);
        var hidden = embed_tokens.forward(ids); // [B, T, hidden]
        var past = input.Cache?.Length ?? 0;
        // With a cache the padding mask covers the cached and the new positions [B, S + T]: positions count the
        // real tokens of the whole row, and the new tokens take the last T of them.
        var positions = input.Cache is null
            ? AttentionMasks.PositionIds(input.AttentionMask, batch, length, ids.device)
            : input.AttentionMask is null
                ? arange(past, past + length, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0).expand(batch, length)
                : AttentionMasks.PositionIds(input.AttentionMask, batch, past + length, ids.device)[TensorIndex.Colon, TensorIndex.Slice(past)];
        var (cos, sin) = rotary_emb.forward(positions, hidden.dtype);
        var mask = input.Cache is null
            ? AttentionMasks.Build(input.AttentionMask, length, _config.EffectiveSlidingWindow, ids.device)
            : AttentionMasks.Cached(past, length, _config.EffectiveSlidingWindow, ids.device, input.AttentionMask);
        var capture = input.CaptureAttention is { } chosen ? new AttentionCapture(chosen, scope) : null;
        var context = new AttentionContext(cos, sin, mask, input.Cache, capture);
        var states = input.OutputHiddenStates ? new List<Tensor>() : null;
        foreach (var layer in layers)
        {
            states?.Add(hidden);
            hidden = layer.forward(hidden, context);
        }
        hidden = norm.forward(hidden);
        states?.Add(hidden);
        if (states is not null)
            foreach (var state in states.Distinct()) state.MoveToOuterDisposeScope();
        else
            hidden.MoveToOuterDisposeScope();
        foreach (var kept in capture?.Captured.Values ?? [])
        {
            kept.Query.MoveToOuterDisposeScope();
            kept.Key.MoveToOuterDisposeScope();
            kept.Value.MoveToOuterDisposeScope();
        }
        return new CausalLMOutput(null, hidden, states, capture?.Captured);
    }

    private void ValidateInput(CausalLMInput input)
    {
        var ids = input.InputIds;
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"InputIds must be [B, T] int64, got [{string.Join(", ", ids.shape)}] {ids.dtype}");
        if (ids.shape[1] == 0)
            throw new ArgumentException("InputIds must hold at least one token per row");
        var past = input.Cache?.Length ?? 0;
        if (input.AttentionMask is { } mask && (mask.dim() != 2 || mask.shape[0] != ids.shape[0] || mask.shape[1] != past + ids.shape[1]))
        {
            var expected = input.Cache is null ? "match InputIds" : $"be [B, cached + new] = [{ids.shape[0]}, {past + ids.shape[1]}] with a KV cache";
            throw new ArgumentException($"AttentionMask [{string.Join(", ", mask.shape)}] must {expected}; InputIds are [{string.Join(", ", ids.shape)}]");
        }
        if (input.Cache is { } cache && cache.Layers != _config.NumHiddenLayers)
            throw new ArgumentException($"the KV cache has {cache.Layers} layers but the model {_config.NumHiddenLayers}");
        foreach (var bad in input.CaptureAttention?.Where(l => l < 0 || l >= _config.NumHiddenLayers) ?? [])
            throw new ArgumentException($"CaptureAttention names layer {bad}, but the model has layers 0..{_config.NumHiddenLayers - 1}");
        if (input.IdsInVocabulary) return; // checked by the caller on the host: saves a host sync per decode step
        using var scope = NewDisposeScope();
        var (min, max) = (ids.min().item<long>(), ids.max().item<long>());
        if (min < 0 || max >= _config.VocabSize)
            throw new ArgumentException($"InputIds hold token ids in [{min}, {max}], outside the vocabulary [0, {_config.VocabSize})");
    }
}
