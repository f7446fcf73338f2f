using System.Globalization;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>Target widths of a width-pruned student; null keeps the teacher's.</summary>
/// <param name="HiddenSize">hidden_size: embedding channels kept (every norm, projection and the embeddings follow).</param>
/// <param name="IntermediateSize">intermediate_size: MLP neurons kept in every layer.</param>
/// <param name="AttentionHeads">num_attention_heads: query heads kept in every layer (whole key/value groups with GQA).</param>
public sealed record PruneWidths(int? HiddenSize = null, int? IntermediateSize = null, int? AttentionHeads = null);

/// <summary>
/// Activation-based importance of each prunable unit, averaged over calibration sequences (each sequence's mean over
/// its tokens): embedding channels by the magnitude of every RMSNorm's output (both norms of each layer and the final
/// one), attention heads by the L2 norm of their output before o_proj, MLP neurons by the magnitude of
/// silu(gate)·up, the input of down_proj. These are Minitron's importance scores (Muralidharan et al., "Compact
/// Language Models via Pruning and Knowledge Distillation", 2024, §2.2), with the mean as the aggregation.
/// </summary>
/// <param name="Channels">[hidden_size].</param>
/// <param name="Heads">Per teacher layer, [num_attention_heads].</param>
/// <param name="Neurons">Per teacher layer, [intermediate_size].</param>
public sealed record WidthImportance(double[] Channels, double[][] Heads, double[][] Neurons);

/// <summary>
/// Minitron's width pruning: rank the teacher's channels, heads and neurons by <see cref="WidthImportance"/> on a few
/// calibration sequences and keep the most important, slicing every weight that reads or writes them. The pruned
/// model is the student's initialisation; distillation then recovers what pruning lost (the paper's point: far fewer
/// tokens than training the small model from scratch).
/// </summary>
public static class WidthPruning
{
    /// <summary>Runs the teacher over <paramref name="calibration"/> (token id sequences, one at a time, no padding).</summary>
    public static WidthImportance Measure(LlamaForCausalLM model, IReadOnlyList<int[]> calibration)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.Count == 0) throw new InvalidDataException("width pruning needs at least one calibration sequence");
        var config = model.Config;
        int layers = config.NumHiddenLayers;
        var weights = model.state_dict();
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        // Beyond a sliding window the model masks what plain causal attention (used to rebuild the heads) would see.
        int window = config.EffectiveSlidingWindow ?? int.MaxValue;
        var channels = zeros(config.HiddenSize, dtype: ScalarType.Float64);
        var heads = zeros(new long[] { layers, config.NumAttentionHeads }, dtype: ScalarType.Float64);
        var neurons = zeros(new long[] { layers, config.IntermediateSize }, dtype: ScalarType.Float64);
        foreach (var ids in calibration)
        {
            using var scope = NewDisposeScope();
            var input = tensor(ids.Take(window).Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);
            var output = model.Forward(new CausalLMInput
            {
                InputIds = input, ComputeLogits = false, OutputHiddenStates = true,
                CaptureAttention = Enumerable.Range(0, layers).ToHashSet(),
            });
            channels.add_(TokenMean(output.LastHiddenState.abs()));
            for (int l = 0; l < layers; l++)
            {
                var pieces = Recompute(config, weights, l, output.HiddenStates![l], output.Attention![l]);
                channels.add_(TokenMean(pieces.AttentionNormed.abs()) + TokenMean(pieces.MlpNormed.abs()));
                heads[l].add_(TokenMean(pieces.HeadOutputs.norm(dim: -1).transpose(1, 2)));
                neurons[l].add_(TokenMean(pieces.Gated.abs()));
            }
        }
        double n = calibration.Count;
        return new WidthImportance(
            ToHost(channels, n),
            [.. Enumerable.Range(0, layers).Select(l => ToHost(heads[l], n))],
            [.. Enumerable.Range(0, layers).Select(l => ToHost(neurons[l], n))]);
    }

    /// <summary>The units kept: indices of the largest importances, in the teacher's order.</summary>
    public static int[] Keep(double[] importance, int count)
    {
        ArgumentNullException.ThrowIfNull(importance);
        if (count < 1 || count > importance.Length)
            throw new InvalidDataException($"cannot keep {count} of {importance.Length}");
        return [.. Enumerable.Range(0, importance.Length).OrderByDescending(i => importance[i]).ThenBy(i => i).Take(count).Order()];
    }

    /// <summary>
    /// The student's config: the teacher's with the pruned widths (head_dim is written when hidden_size / heads no
    /// longer gives the teacher's head size, since the heads keep it).
    /// </summary>
    public static void ApplyToConfig(System.Text.Json.Nodes.JsonObject raw, LlamaConfig teacher, PruneWidths widths)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(widths);
        CheckWidths(teacher, widths);
        int hidden = widths.HiddenSize ?? teacher.HiddenSize, heads = widths.AttentionHeads ?? teacher.NumAttentionHeads;
        raw["hidden_size"] = hidden;
        raw["intermediate_size"] = widths.IntermediateSize ?? teacher.IntermediateSize;
        raw["num_attention_heads"] = heads;
        raw["num_key_value_heads"] = heads / (teacher.NumAttentionHeads / teacher.KeyValueHeads);
        if (teacher.HeadDim is not null || hidden % heads != 0 || hidden / heads != teacher.HeadDimension) raw["head_dim"] = teacher.HeadDimension;
    }

    /// <summary>
    /// Copies the kept slices of <paramref name="teacher"/>'s weights into <paramref name="student"/> (already shaped
    /// by <see cref="ApplyToConfig"/>); student layer i comes from teacher layer <paramref name="layers"/>[i].
    /// </summary>
    public static void Copy(LlamaForCausalLM teacher, LlamaForCausalLM student, IReadOnlyList<int> layers, WidthImportance importance)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(importance);
        var (t, s) = (teacher.Config, student.Config);
        int group = t.NumAttentionHeads / t.KeyValueHeads, headDim = t.HeadDimension;
        var channels = Keep(importance.Channels, s.HiddenSize);
        using var noGrad = no_grad();
        var source = teacher.state_dict();
        foreach (var (name, target) in student.state_dict())
        {
            using var scope = NewDisposeScope();
            var (from, layer) = TeacherName(name, layers);
            var weight = source.TryGetValue(from, out var w) ? w : throw new InvalidDataException($"{name}: the teacher has no tensor {from}");
            int[] Rows(Axis axis) => axis switch
            {
                Axis.Channel => channels,
                Axis.Neuron => Keep(importance.Neurons[layer], s.IntermediateSize),
                Axis.QueryHead => Expand(KeptGroups(importance.Heads[layer], group, s.KeyValueHeads), group * headDim),
                Axis.KeyValueHead => Expand(KeptGroups(importance.Heads[layer], group, s.KeyValueHeads), headDim),
                _ => [],
            };
            var (rows, columns) = Axes(name);
            var sliced = weight;
            if (rows != Axis.None) sliced = sliced.index_select(0, tensor(Rows(rows).Select(i => (long)i).ToArray()));
            if (columns != Axis.None) sliced = sliced.index_select(1, tensor(Rows(columns).Select(i => (long)i).ToArray()));
            if (!sliced.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{name}: pruned to [{string.Join(", ", sliced.shape)}], the student wants [{string.Join(", ", target.shape)}]");
            target.copy_(sliced);
        }
    }

    /// <summary>The tensors a decoder layer computes from its input, rebuilt from its weights (for the importances).</summary>
    internal sealed record LayerPieces(Tensor AttentionNormed, Tensor HeadOutputs, Tensor MlpNormed, Tensor Gated, Tensor Output);

    /// <summary>
    /// Layer <paramref name="layer"/> applied to <paramref name="hidden"/> [1, T, hidden] from the captured queries,
    /// keys (after RoPE) and values: x + o_proj(attention), then + down_proj(silu(gate)·up) of its RMSNorm.
    /// <see cref="LayerPieces.Output"/> equals the model's next hidden state (tested), which checks the pieces.
    /// </summary>
    internal static LayerPieces Recompute(LlamaConfig config, IDictionary<string, Tensor> weights, int layer, Tensor hidden, AttentionInputs attention)
    {
        string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.");
        Tensor W(string name) => weights[p + name];
        Tensor? B(string name) => weights.TryGetValue(p + name, out var b) ? b : null;
        int group = config.NumAttentionHeads / config.KeyValueHeads;
        var attentionNormed = RmsNorm(hidden, W("input_layernorm.weight"), config.RmsNormEps);
        var (k, v) = (attention.Key.repeat_interleave(group, dim: 1), attention.Value.repeat_interleave(group, dim: 1));
        var heads = nn.functional.scaled_dot_product_attention(attention.Query, k, v, is_casual: true); // [1, H, T, D]
        var merged = heads.transpose(1, 2).reshape(hidden.shape[0], hidden.shape[1], -1);
        var middle = hidden + nn.functional.linear(merged, W("self_attn.o_proj.weight"), B("self_attn.o_proj.bias"));
        var mlpNormed = RmsNorm(middle, W("post_attention_layernorm.weight"), config.RmsNormEps);
        var gated = nn.functional.silu(nn.functional.linear(mlpNormed, W("mlp.gate_proj.weight"), B("mlp.gate_proj.bias")))
            * nn.functional.linear(mlpNormed, W("mlp.up_proj.weight"), B("mlp.up_proj.bias"));
        var output = middle + nn.functional.linear(gated, W("mlp.down_proj.weight"), B("mlp.down_proj.bias"));
        return new LayerPieces(attentionNormed, heads, mlpNormed, gated, output);
    }

    private enum Axis { None, Channel, Neuron, QueryHead, KeyValueHead }

    // Which axes of each Hugging Face tensor index channels, heads or neurons ([out, in] for projections).
    private static (Axis Rows, Axis Columns) Axes(string name)
    {
        string suffix = name[(name.LastIndexOf('.', name.LastIndexOf('.') - 1) + 1)..];
        return suffix switch
        {
            "embed_tokens.weight" or "lm_head.weight" => (Axis.None, Axis.Channel),
            "norm.weight" or "input_layernorm.weight" or "post_attention_layernorm.weight" => (Axis.Channel, Axis.None),
            "q_proj.weight" => (Axis.QueryHead, Axis.Channel),
            "q_proj.bias" => (Axis.QueryHead, Axis.None),
            "k_proj.weight" or "v_proj.weight" => (Axis.KeyValueHead, Axis.Channel),
            "k_proj.bias" or "v_proj.bias" => (Axis.KeyValueHead, Axis.None),
            "o_proj.weight" => (Axis.Channel, Axis.QueryHead),
            "o_proj.bias" or "down_proj.bias" => (Axis.Channel, Axis.None),
            "gate_proj.weight" or "up_proj.weight" => (Axis.Neuron, Axis.Channel),
            "gate_proj.bias" or "up_proj.bias" => (Axis.Neuron, Axis.None),
            "down_proj.weight" => (Axis.Channel, Axis.Neuron),
            _ => throw new InvalidDataException($"{name}: width pruning does not know this tensor"),
        };
    }

    // Key/value groups kept: a group's importance is the sum of its query heads' (without GQA a group is one head).
    private static int[] KeptGroups(double[] heads, int group, int groups) =>
        Keep([.. heads.Chunk(group).Select(g => g.Sum())], groups);

    // Unit u of width w covers rows u·w … u·w + w − 1.
    private static int[] Expand(int[] units, int width) => [.. units.SelectMany(u => Enumerable.Range(u * width, width))];

    private static (string Name, int Layer) TeacherName(string name, IReadOnlyList<int> layers)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return (name, -1);
        int dot = name.IndexOf('.', prefix.Length);
        int layer = layers[int.Parse(name[prefix.Length..dot], CultureInfo.InvariantCulture)];
        return (prefix + layer.ToString(CultureInfo.InvariantCulture) + name[dot..], layer);
    }

    private static void CheckWidths(LlamaConfig teacher, PruneWidths widths)
    {
        void Check(string key, int? value, int limit)
        {
            if (value is { } v && (v < 1 || v > limit)) throw new InvalidDataException($"{key} {v}: must be between 1 and the teacher's {limit}");
        }
        Check("hidden_size", widths.HiddenSize, teacher.HiddenSize);
        Check("intermediate_size", widths.IntermediateSize, teacher.IntermediateSize);
        Check("num_attention_heads", widths.AttentionHeads, teacher.NumAttentionHeads);
        int group = teacher.NumAttentionHeads / teacher.KeyValueHeads;
        if (widths.AttentionHeads is { } h && h % group != 0)
            throw new InvalidDataException($"num_attention_heads {h}: the teacher's heads share key/value heads in groups of {group}, so whole groups are kept (a multiple of {group})");
    }

    // RMSNorm as Hugging Face's LlamaRMSNorm computes it: x · rsqrt(mean(x²) + ε) · weight.
    private static Tensor RmsNorm(Tensor x, Tensor weight, double eps) =>
        x * (x.pow(2).mean([-1], keepdim: true) + eps).rsqrt() * weight;

    // [1, T, N] (or [1, N, T] transposed to it) → [N], the mean over tokens, in fp64.
    private static Tensor TokenMean(Tensor x) => x.to_type(ScalarType.Float64).mean([0, 1]);

    private static double[] ToHost(Tensor sum, double count) => (sum / count).data<double>().ToArray();
}
