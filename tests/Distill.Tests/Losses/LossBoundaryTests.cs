using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>
/// Ids are checked once at the loss's boundary, and the per-chunk loop reads nothing back to the host (on a GPU each
/// read is a sync that stalls the queue). The losses read values only through <see cref="LossMath.ReadToHost{T}"/>,
/// which counts; a scan of the source keeps it the only way.
/// </summary>
public class LossBoundaryTests
{
    private const int N = 9, V = 23, H = 5, K = 4;
    private static readonly long[] Labels = { 3, 0, 22, 7, -100, 19, 2, 5, 1 };

    public static TheoryData<string> Objectives => new() { "sft", "fwd_kl", "bwd_kl", "jsd", "tail_fwd_kl", "tail_bwd_kl" };

    private static KdObjective Objective(string name) => name == "sft"
        ? KdObjective.SftOnly
        : new KdObjective(KdObjective.ParseKind(name), KdWeight: 1, SftWeight: 0.4, LogitsScale: name.StartsWith("tail", StringComparison.Ordinal) ? 1.1 : 0.9);

    private static LossTargets Targets(string name)
    {
        var (ids, t, lse) = TopK(RandomRows(80, N, V), K);
        var teacher = name == "sft" ? null : TeacherSignal.TopK(ToTensor(ids).to_type(ScalarType.Int32),
            ToTensor(t, ScalarType.BFloat16), tensor(lse).to_type(ScalarType.Float32));
        return new LossTargets(tensor(Labels), ones(N), teacher);
    }

    [Theory]
    [MemberData(nameof(Objectives))]
    public void The_Chunk_Loop_Should_Read_Nothing_Back_To_The_Host(string name)
    {
        using var scope = NewDisposeScope();
        var hidden = ToTensor(RandomRows(81, N, H));
        var weight = ToTensor(RandomRows(82, V, H), requiresGrad: true);
        var hiddenGrad = zeros(N, H);
        var before = LossMath.HostReads;
        ChunkedLoss.BackwardChunks(hidden, weight, hiddenGrad, Targets(name), Objective(name), chunkSize: 2, normaliser: 10);
        Assert.Equal(0, LossMath.HostReads - before);
        Assert.NotNull(weight.grad);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(N)]
    public void Chunked_Backward_Should_Read_Twice_Whatever_The_Chunk_Count(int chunkSize)
    {
        using var scope = NewDisposeScope();
        var (h, w) = (ToTensor(RandomRows(83, N, H)), ToTensor(RandomRows(84, V, H)));
        var before = LossMath.HostReads;
        ChunkedLoss.Backward(h, w, Targets("tail_fwd_kl"), Objective("tail_fwd_kl"), chunkSize, 10);
        Assert.Equal(2, LossMath.HostReads - before);      // the id check before the loop, the sums after it
        before = LossMath.HostReads;
        KdLoss.PerToken(Objective("fwd_kl"), h.matmul(w.t()), tensor(Labels), Targets("fwd_kl").Teacher);
        Assert.Equal(1, LossMath.HostReads - before);      // the public per-token entry point checks its ids
    }

    [Fact]
    public void Losses_Should_Read_Tensor_Values_Only_Through_ReadToHost()
    {
        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "src", "Distill", "Losses"))) root = Path.GetDirectoryName(root)!;
        var reads = new System.Text.RegularExpressions.Regex(@"\.(item|data)\s*<|\.bytes\b|\.ToArray\(\)");
        var offenders = Directory.GetFiles(Path.Combine(root, "src", "Distill", "Losses"), "*.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => reads.IsMatch(l.Text) && !l.Text.TrimStart().StartsWith("///", StringComparison.Ordinal))
            .Select(l => $"{l.File}:{l.Line}")
            .ToArray();
        Assert.StartsWith("LossMath.cs:", Assert.Single(offenders), StringComparison.Ordinal);   // ReadToHost itself
    }

    [Theory]
    [InlineData("labels")]
    [InlineData("topk_ids")]
    public void Chunked_Backward_And_Evaluate_Should_Name_An_Id_Outside_The_Vocabulary(string which)
    {
        using var scope = NewDisposeScope();
        var labels = (long[])Labels.Clone();
        var (ids, t, lse) = TopK(RandomRows(81, N, V), K);
        if (which == "labels") labels[6] = V; else ids[4][1] = V + 3;
        var teacher = TeacherSignal.TopK(ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32));
        var targets = new LossTargets(tensor(labels), null, teacher);
        var (h, w) = (ToTensor(RandomRows(82, N, H)), ToTensor(RandomRows(83, V, H)));
        var objective = new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.5);
        var expected = which == "labels" ? $"labels: id {V} is outside" : $"topk_ids: id {V + 3} is outside";
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => ChunkedLoss.Backward(h, w, targets, objective, 2, 10)).Message);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => ChunkedLoss.Evaluate(h, w, targets, objective, 2)).Message);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => KdLoss.PerToken(objective, ToTensor(RandomRows(84, N, V)), tensor(labels), teacher)).Message);
    }

    [Fact]
    public void A_Negative_Teacher_Id_Should_Be_Named()
    {
        using var scope = NewDisposeScope();
        var (ids, t, lse) = TopK(RandomRows(85, N, V), K);
        ids[0][3] = -2;
        var targets = new LossTargets(tensor(Labels), null, TeacherSignal.TopK(ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32)));
        Assert.Contains("topk_ids: id -2 is outside", Assert.Throws<InvalidDataException>(() => targets.CheckIds(V)).Message);
    }

    public static TheoryData<KdObjective> GradientObjectives => new()
    {
        new KdObjective(KdLossKind.FwdKl, KdWeight: 0.7, SftWeight: 0.3, LogitsScale: 1.2, TargetLogitsScale: 0.8, Temperature: 2, TSquared: true),
        new KdObjective(KdLossKind.BwdKl, KdWeight: 1, SftWeight: 0.1),
        new KdObjective(KdLossKind.Jsd, KdWeight: 1, SftWeight: 0.2, Beta: 0.3),
        new KdObjective(KdLossKind.TailFwdKl, KdWeight: 0.9, SftWeight: 0.4, LogitsScale: 1.3),
        new KdObjective(KdLossKind.TailBwdKl, KdWeight: 1, SftWeight: 0),
        new KdObjective(KdLossKind.FwdKl, KdWeight: 0, SftWeight: 1),
    };

    /// <summary>
    /// The combined path (one gather of label and K ids, one shared log-normaliser) against central finite differences of
    /// the hand-written per-token objective in <see cref="NaiveKd"/>, in double precision, with an ignored row.
    /// </summary>
    [Theory]
    [MemberData(nameof(GradientObjectives))]
    public void PerToken_Gradient_Should_Match_Finite_Differences_Of_The_Naive_Objective(KdObjective o)
    {
        using var scope = NewDisposeScope();
        var x = RandomRows(86, N, V);
        var (ids, t, lse) = TopK(RandomRows(87, N, V), K);
        var teacher = TeacherSignal.TopK(ToTensor(ids).to_type(ScalarType.Int32), ToTensor(t, ScalarType.Float64), tensor(lse));
        var xt = ToTensor(x, ScalarType.Float64, requiresGrad: true);
        KdLoss.PerToken(o, xt, tensor(Labels), teacher).Total.sum().backward();
        var grad = ToDoubles(xt.grad!);

        double Naive(double[] row, int i)
        {
            var (ls, ts, temp) = (o.LogitsScale, o.TargetLogitsScale, o.Temperature);
            var kd = o.Kind switch
            {
                KdLossKind.FwdKl => NaiveKd.TopK(row, ids[i], t[i], 0, ls / temp, ts / temp),
                KdLossKind.BwdKl => NaiveKd.TopK(row, ids[i], t[i], 1, ls / temp, ts / temp),
                KdLossKind.Jsd => NaiveKd.TopK(row, ids[i], t[i], o.Beta, ls / temp, ts / temp),
                _ => NaiveKd.Tail(row, ids[i], t[i], lse[i], o.Kind == KdLossKind.TailFwdKl, ls),
            };
            var ce = Labels[i] < 0 ? 0 : NaiveKd.CrossEntropy(NaiveKd.Scale(row, ls), Labels[i]);
            return o.KdWeight * kd * o.KdFactor + o.SftWeight * ce;
        }
        const double step = 1e-6;
        var expected = new double[N * V];
        for (var i = 0; i < N; i++)
            for (var v = 0; v < V; v++)
            {
                var (up, down) = ((double[])x[i].Clone(), (double[])x[i].Clone());
                up[v] += step;
                down[v] -= step;
                expected[i * V + v] = (Naive(up, i) - Naive(down, i)) / (2 * step);
            }
        AssertAllClose(expected, grad, 1e-6, "d total / d x");
    }
}
