using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The feature term of a run (<see cref="FeatureOptions"/>): which layers each model reports, and the term's sum over a
/// micro-batch's feature rows, summed over the mapped pairs. Cosine and MSE compare the state after student layer s,
/// projected (<see cref="FeatureProjections"/>), with the state after teacher layer t; attention compares MiniLM's
/// attention and value relations of the two layers (<see cref="AttentionRelations"/>).
/// </summary>
public sealed class FeatureDistillation : IDisposable
{
    private readonly FeatureOptions _options;
    private readonly FeatureProjections _projections;
    private readonly ModelTeacher _teacher;
    private readonly HashSet<int> _teacherHidden = [], _teacherAttention = [], _studentAttention = [];
    private readonly bool _matchHeads, _matchKvHeads;

    /// <summary>
    /// The term for <paramref name="teacher"/> and a student of <paramref name="student"/>'s shape, with projections drawn
    /// from <paramref name="seed"/> (a resumed run then loads the checkpoint's into <see cref="Projections"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A bad layer map, or heads that cannot be paired (see <see cref="Check"/>).</exception>
    public FeatureDistillation(FeatureOptions options, ModelTeacher teacher, LlamaConfig student, long seed, Device device)
    {
        var map = Check(options, student, teacher.Model.Config);
        _options = options;
        _teacher = teacher;
        var attention = options.Loss == FeatureLossKind.Attention;
        foreach (var (s, t) in map.Pairs)
        {
            (attention ? _teacherAttention : _teacherHidden).Add(t);
            if (attention) _studentAttention.Add(s);
        }
        _matchHeads = PairHeads(options.Heads, student.NumAttentionHeads, teacher.Model.Config.NumAttentionHeads, "attention heads");
        _matchKvHeads = PairHeads(options.Heads, student.KeyValueHeads, teacher.Model.Config.KeyValueHeads, "key/value heads");
        _projections = attention ? FeatureProjections.None(map) : FeatureProjections.Create(map, student, teacher.Model.Config, seed, device);
    }

    /// <summary>The learned projections (none for attention relations, or when the widths agree).</summary>
    public FeatureProjections Projections => _projections;

    /// <summary>
    /// Checks <paramref name="options"/> against both models' shapes before anything is loaded: the layer map's layers
    /// exist, and attention heads can be paired as asked. Returns the layer map.
    /// </summary>
    /// <exception cref="InvalidDataException">Names the key and the reason.</exception>
    public static LayerMap Check(FeatureOptions options, LlamaConfig student, LlamaConfig teacher)
    {
        var map = LayerMap.Parse(options.LayerMap, student.NumHiddenLayers, teacher.NumHiddenLayers);
        if (options.Loss == FeatureLossKind.Attention)
        {
            PairHeads(options.Heads, student.NumAttentionHeads, teacher.NumAttentionHeads, "attention heads");
            PairHeads(options.Heads, student.KeyValueHeads, teacher.KeyValueHeads, "key/value heads");
        }
        return map;
    }

    /// <summary>The term's weight in the objective.</summary>
    public double Weight => _options.Weight;

    /// <summary>How many feature rows <paramref name="examples"/> contribute (the term's normaliser counts these).</summary>
    public long Rows(IEnumerable<TrainingExample> examples) =>
        examples.Sum(e => _options.Tokens == FeatureTokens.All ? e.InputIds.Length : (long)e.SupervisedCount);

    /// <summary>The teacher's KD signal and its mapped layers, from one forward pass.</summary>
    public (TeacherSignal Signal, TeacherLayers Layers) AskTeacher(MicroBatch batch) =>
        _teacher.Signal(batch, _teacherHidden, _teacherAttention, RowsOf(batch));

    /// <summary>The student's forward pass, reporting what the term needs.</summary>
    public CausalLMOutput StudentForward(MicroBatch batch, LlamaForCausalLM student) =>
        batch.Forward(student, hiddenStates: _teacherHidden.Count > 0, attention: _studentAttention.Count > 0 ? _studentAttention : null);

    /// <summary>Σ over pairs and feature rows of the term (fp32 scalar, differentiable in the student and the projections).</summary>
    public Tensor Sum(MicroBatch batch, CausalLMOutput student, TeacherLayers teacher)
    {
        var total = zeros(Array.Empty<long>(), ScalarType.Float32, batch.InputIds.device);
        var rows = RowsOf(batch);
        // Per example: its query rows on the device and the keys they need (up to the last query), made once per batch.
        var queries = _options.Loss != FeatureLossKind.Attention ? null : batch.Positions(_options.Tokens == FeatureTokens.All)
            .Select(p => p.Length == 0 ? ((Tensor Rows, long Length)?)null : (tensor(p, ScalarType.Int64, batch.InputIds.device), p.Max() + 1))
            .ToArray();
        for (var i = 0; i < _projections.Map.Pairs.Count; i++)
        {
            var (s, t) = _projections.Map.Pairs[i];
            total = total + _options.Loss switch
            {
                FeatureLossKind.Cosine => FeatureLosses.CosineSum(_projections.Project(i, MicroBatch.Rows(student.HiddenStates![s + 1], rows)), teacher.Hidden[t]),
                FeatureLossKind.Mse => FeatureLosses.MseSum(_projections.Project(i, MicroBatch.Rows(student.HiddenStates![s + 1], rows)), teacher.Hidden[t]),
                _ => RelationSum(student.Attention![s], teacher.Attention[t], queries!),
            };
        }
        return total;
    }

    // MiniLM: KL of the attention distributions plus KL of the value relations, one example at a time (no padding, and
    // only one example's [heads, T, T] relations exist at once).
    private Tensor RelationSum(AttentionInputs student, AttentionInputs teacher, (Tensor Rows, long Length)?[] queries)
    {
        var total = zeros(Array.Empty<long>(), ScalarType.Float32, student.Query.device);
        for (var b = 0; b < queries.Length; b++)
        {
            if (queries[b] is not { } query) continue;
            var (rows, length) = query;
            var (sq, sk, sv) = Example(student, b, length);
            var (tq, tk, tv) = Example(teacher, b, length);
            total = total
                + AttentionRelations.KlSum(AttentionRelations.LogRelation(tq, tk), AttentionRelations.LogRelation(sq, sk), rows, _matchHeads)
                + AttentionRelations.KlSum(AttentionRelations.LogRelation(tv, tv), AttentionRelations.LogRelation(sv, sv), rows, _matchKvHeads);
        }
        return total;
    }

    // Example b's first `length` positions: queries [H, T, D], keys repeated to the query heads (grouped-query attention
    // reads kv head h / group for query head h), values [KV, T, D].
    private static (Tensor Query, Tensor Key, Tensor Value) Example(AttentionInputs a, int b, long length)
    {
        var q = a.Query[b].narrow(1, 0, length);
        var k = a.Key[b].narrow(1, 0, length);
        return (q, k.repeat_interleave(q.shape[0] / k.shape[0], dim: 0), a.Value[b].narrow(1, 0, length));
    }

    private Tensor RowsOf(MicroBatch batch) => _options.Tokens == FeatureTokens.All ? batch.TokenRows : batch.HiddenRows;

    /// <summary>Frees the projections.</summary>
    public void Dispose() => _projections.Dispose();

    private static bool PairHeads(AttentionHeads heads, int student, int teacher, string what) => heads switch
    {
        AttentionHeads.Match when student != teacher => throw new InvalidDataException(
            $"train config: feature.heads = match, but the student has {student} {what} and the teacher {teacher}; use heads = average"),
        AttentionHeads.Match => true,
        AttentionHeads.Average => false,
        _ => student == teacher,
    };
}
