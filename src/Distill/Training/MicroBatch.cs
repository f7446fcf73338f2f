using Distill.Losses;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The one packing rule for student and teacher alike: examples padded on the right to the longest one, with the
/// supervised targets gathered. Target j of example b (token ids[b, j], j ≥ 1, mask[b, j] ≠ 0) is predicted from the
/// hidden state at position j − 1, i.e. row b·T + j − 1 of the flattened [B·T, H] hidden states. Rows are ordered by
/// example, then position, which is the order of a logit cache's teacher rows. The tensors belong to the dispose scope
/// current at <see cref="Pack"/>.
/// </summary>
public sealed class MicroBatch
{
    private MicroBatch(IReadOnlyList<TrainingExample> examples, long[]? indices, Tensor inputIds, Tensor? attentionMask,
        Tensor hiddenRows, Tensor labels, int[] rowCounts, long tokens, Tensor tokenRows, (int Min, int Max) idRange)
    {
        TokenRows = tokenRows;
        _idRange = idRange;
        Examples = examples;
        Indices = indices;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        HiddenRows = hiddenRows;
        Labels = labels;
        RowCounts = rowCounts;
        Tokens = tokens;
    }

    // The smallest and largest token id, seen on the host while packing: Hidden checks them against the model's
    // vocabulary without reading the ids back from the device (a sync per forward pass on a GPU).
    private readonly (int Min, int Max) _idRange;

    /// <summary>The id written into padding positions (any valid id: padded positions are masked out of attention and loss).</summary>
    public const int PadId = 0;

    /// <summary>The examples, in batch order.</summary>
    public IReadOnlyList<TrainingExample> Examples { get; }

    /// <summary>The examples' indices in their <see cref="IExampleSource"/>, or null when they were made on the fly (sampled completions).</summary>
    public long[]? Indices { get; }

    /// <summary>[B, T] int64 token ids, right-padded with <see cref="PadId"/>.</summary>
    public Tensor InputIds { get; }

    /// <summary>[B, T] int64, 1 for real tokens and 0 for padding; null when no example is padded.</summary>
    public Tensor? AttentionMask { get; }

    /// <summary>[N] int64 rows of the flattened [B·T, H] hidden states that predict the N targets.</summary>
    public Tensor HiddenRows { get; }

    /// <summary>[Tokens] int64 rows of the flattened [B·T, H] hidden states that hold real tokens, in example order.</summary>
    public Tensor TokenRows { get; }

    /// <summary>[N] int64 next-token labels of the targets (every row counts, so no mask).</summary>
    public Tensor Labels { get; }

    /// <summary>Targets per example, in batch order (they sum to N).</summary>
    public int[] RowCounts { get; }

    /// <summary>N, the supervised targets in this micro-batch.</summary>
    public long SupervisedTokens => Labels.shape[0];

    /// <summary>Real (non-padding) tokens in this micro-batch.</summary>
    public long Tokens { get; }

    /// <summary>The labels with <paramref name="teacher"/>'s signal for the same rows (null for plain SFT).</summary>
    public LossTargets Targets(TeacherSignal? teacher = null) => new(Labels, null, teacher);

    /// <summary>Packs <paramref name="indices"/>' examples of <paramref name="source"/>.</summary>
    public static MicroBatch Build(IExampleSource source, IReadOnlyList<long> indices, Device device) =>
        Pack(indices.Select(source.Example).ToArray(), device, indices);

    /// <summary>Pads <paramref name="examples"/> and gathers their targets; <paramref name="indices"/> records where they came from.</summary>
    public static MicroBatch Pack(IReadOnlyList<TrainingExample> examples, Device device, IReadOnlyList<long>? indices = null)
    {
        if (examples.Count == 0) throw new ArgumentException("a micro-batch needs at least one example", nameof(examples));
        if (indices is not null && indices.Count != examples.Count)
            throw new ArgumentException($"{indices.Count} indices for {examples.Count} examples", nameof(indices));
        var width = examples.Max(e => e.InputIds.Length);
        var ids = new long[examples.Count * width];
        var attention = new long[ids.Length];
        var rows = new List<long>();
        var tokenRows = new List<long>();
        var labels = new List<long>();
        var counts = new int[examples.Count];
        var (minId, maxId) = (PadId, PadId);
        for (var b = 0; b < examples.Count; b++)
        {
            var e = examples[b];
            for (var j = 0; j < e.InputIds.Length; j++)
            {
                ids[b * width + j] = e.InputIds[j];
                (minId, maxId) = (Math.Min(minId, e.InputIds[j]), Math.Max(maxId, e.InputIds[j]));
                attention[b * width + j] = 1;
                tokenRows.Add((long)b * width + j);
                if (j == 0 || e.LossMask[j] == 0) continue;
                rows.Add((long)b * width + j - 1);
                labels.Add(e.InputIds[j]);
                counts[b]++;
            }
        }
        var padded = examples.Any(e => e.InputIds.Length < width);
        var shape = new long[] { examples.Count, width };
        return new MicroBatch(examples, indices?.ToArray(),
            tensor(ids, shape, ScalarType.Int64, device),
            padded ? tensor(attention, shape, ScalarType.Int64, device) : null,
            tensor(rows.ToArray(), ScalarType.Int64, device),
            tensor(labels.ToArray(), ScalarType.Int64, device),
            counts,
            attention.Sum(),
            tensor(tokenRows.ToArray(), ScalarType.Int64, device),
            (minId, maxId));
    }

    /// <summary>
    /// Per example, the positions whose hidden states predict its supervised targets (target j ← position j − 1), or with
    /// <paramref name="all"/> every real position: the query rows of relation losses, computed on the host.
    /// </summary>
    public IReadOnlyList<long[]> Positions(bool all) => Examples
        .Select(e => all
            ? Enumerable.Range(0, e.InputIds.Length).Select(j => (long)j).ToArray()
            : Enumerable.Range(1, e.InputIds.Length - 1).Where(j => e.LossMask[j] != 0).Select(j => (long)j - 1).ToArray())
        .ToArray();

    /// <summary>[N, H] <paramref name="model"/>'s final hidden states at the rows that predict the targets.</summary>
    /// <exception cref="InvalidDataException">A token id is outside the model's vocabulary (checked on the host, before the forward pass).</exception>
    public Tensor Hidden(LlamaForCausalLM model) => Rows(Forward(model).LastHiddenState, HiddenRows);

    /// <summary>
    /// <paramref name="model"/>'s forward pass over the batch without logits, with every layer's hidden states when
    /// <paramref name="hiddenStates"/> and the attention inputs of the layers in <paramref name="attention"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A token id is outside the model's vocabulary (checked on the host, before the forward pass).</exception>
    public CausalLMOutput Forward(LlamaForCausalLM model, bool hiddenStates = false, IReadOnlySet<int>? attention = null)
    {
        var vocab = model.Config.VocabSize;
        if (_idRange.Min < 0 || _idRange.Max >= vocab)
            throw new InvalidDataException($"micro-batch{Where()}: token id {(_idRange.Min < 0 ? _idRange.Min : _idRange.Max)} is outside the model's vocabulary [0, {vocab})");
        return model.Forward(new CausalLMInput
        {
            InputIds = InputIds, AttentionMask = AttentionMask, ComputeLogits = false, OutputHiddenStates = hiddenStates, CaptureAttention = attention,
            IdsInVocabulary = true,
        });
    }

    /// <summary>[R, H] the <paramref name="rows"/> (<see cref="HiddenRows"/> or <see cref="TokenRows"/>) of [B, T, H] <paramref name="states"/>.</summary>
    public static Tensor Rows(Tensor states, Tensor rows) => states.reshape(-1, states.shape[2]).index_select(0, rows);

    private string Where() => Indices is { } ix ? $" of examples {string.Join(", ", ix.Take(8))}{(ix.Length > 8 ? ", ..." : "")}" : "";
}
