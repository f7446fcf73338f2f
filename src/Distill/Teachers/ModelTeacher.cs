using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// A live teacher: a model run in eval mode under no-grad, in its own dtype (say bf16 beside an fp32 student), on the
/// micro-batches the student sees. It answers with its final hidden states and output projection, so the loss projects
/// the full vocabulary chunk by chunk as it does the student's (the [N, V] teacher logits never exist at once), or, with
/// <c>topK</c>, with its top-K rows computed on the fly exactly as <c>distill topk</c> would cache them (NeMo-RL does this
/// with K = 64), which the top-K and tail-aware losses then use unchanged.
/// </summary>
public sealed class ModelTeacher : ITeacher
{
    private readonly bool _owned;
    private readonly long _chunkRows;

    /// <summary>Wraps <paramref name="model"/> (switched to eval mode; owned when <paramref name="owned"/>).</summary>
    /// <param name="model">The teacher, on the student's device.</param>
    /// <param name="topK">Answer with the top-K rows instead of the full vocabulary; null for the full vocabulary.</param>
    /// <param name="name">For messages; defaults to "teacher model".</param>
    /// <param name="owned">Dispose the model with this teacher.</param>
    /// <param name="chunkElements">Largest [rows, V] fp32 block projected at once for top-K.</param>
    public ModelTeacher(LlamaForCausalLM model, int? topK = null, string? name = null, bool owned = false,
        long chunkElements = TopKTeacher.DefaultChunkElements)
    {
        ArgumentNullException.ThrowIfNull(model);
        var vocab = model.Config.VocabSize;
        if (topK is { } k && (k < 1 || k > vocab))
            throw new InvalidDataException($"teacher_top_k = {k} must be in [1, {vocab}] (the teacher's vocabulary)");
        Model = model;
        TopK = topK;
        Name = name ?? "teacher model";
        _owned = owned;
        _chunkRows = Math.Max(1, chunkElements / vocab);
        model.eval();
    }

    /// <summary>Loads the Hugging Face folder <paramref name="dir"/> in <paramref name="dtype"/> as an owned teacher.</summary>
    public static ModelTeacher Load(string dir, Device device, ScalarType dtype, int? topK = null) =>
        new(HfModelFolder.Load(dir, device, dtype), topK, dir, owned: true);

    /// <summary>The teacher model.</summary>
    public LlamaForCausalLM Model { get; }

    /// <summary>K when the teacher answers with its top-K rows; null for the full vocabulary.</summary>
    public int? TopK { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public TeacherSignal Signal(MicroBatch batch)
    {
        using var noGrad = no_grad();
        return Answer(batch.Hidden(Model));
    }

    /// <summary>
    /// <see cref="Signal(MicroBatch)"/> and, from the same forward pass, the states after the layers in
    /// <paramref name="hidden"/> at <paramref name="rows"/> of the flattened [B·T] positions and the attention inputs of
    /// the layers in <paramref name="attention"/>; every other layer's state is freed before this returns.
    /// </summary>
    public (TeacherSignal Signal, TeacherLayers Layers) Signal(MicroBatch batch, IReadOnlySet<int> hidden, IReadOnlySet<int> attention, Tensor rows)
    {
        using var noGrad = no_grad();
        Tensor final;
        var states = new Dictionary<int, Tensor>();
        var inputs = new Dictionary<int, AttentionInputs>();
        using (var scope = NewDisposeScope())
        {
            var output = batch.Forward(Model, hiddenStates: hidden.Count > 0, attention: attention.Count > 0 ? attention : null);
            final = MicroBatch.Rows(output.LastHiddenState, batch.HiddenRows).MoveToOuterDisposeScope();
            foreach (var layer in hidden) states[layer] = MicroBatch.Rows(output.HiddenStates![layer + 1], rows).MoveToOuterDisposeScope();
            foreach (var (layer, a) in output.Attention ?? new Dictionary<int, AttentionInputs>())
                inputs[layer] = new AttentionInputs(a.Query.MoveToOuterDisposeScope(), a.Key.MoveToOuterDisposeScope(), a.Value.MoveToOuterDisposeScope());
        }
        return (Answer(final), new TeacherLayers(states, inputs));
    }

    private TeacherSignal Answer(Tensor hidden)                                                   // [N, Ht]
    {
        if (TopK is not { } k) return TeacherSignal.FromHidden(hidden, Model.LmHeadWeight);
        var (ids, logits, lse) = TopKTeacher.Rows(hidden, Model.LmHeadWeight, k, _chunkRows);
        return TeacherSignal.TopK(ids, logits, lse);
    }

    /// <summary>Disposes the model when owned.</summary>
    public void Dispose()
    {
        if (_owned) Model.Dispose();
    }
}

/// <summary>
/// A live teacher's intermediate states for feature distillation, kept for the mapped layers only.
/// </summary>
/// <param name="Hidden">By teacher layer: [R, Ht] the state after that layer at the feature rows.</param>
/// <param name="Attention">By teacher layer: its attention inputs over the whole micro-batch.</param>
public sealed record TeacherLayers(IReadOnlyDictionary<int, Tensor> Hidden, IReadOnlyDictionary<int, AttentionInputs> Attention);
