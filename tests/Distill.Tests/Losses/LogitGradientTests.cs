using Distill.Losses;
using TorchSharp;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>
/// <see cref="LogitGradient"/> (the chunk loop's written-down [N, V] gradient) against autograd through
/// <see cref="KdLoss.PerToken"/>: the same per-token terms and the same gradient of Σ(total·mask)/normaliser.
/// </summary>
public class LogitGradientTests
{
    private const int N = 9, V = 37, K = 6;
    private static readonly long[] Labels = { 3, -100, 36, 7, 7, 19, 2, 0, 11 };
    private static readonly double[] MaskValues = { 1, 1, 0, 1, 1, 1, 1, 0.5, 1 };

    public static TheoryData<string> Objectives() => new()
    {
        "sft", "fwd_kl", "bwd_kl", "jsd", "tail_fwd_kl", "tail_bwd_kl", "fwd_kl_scaled_t2", "tail_fwd_kl_scaled", "kd_only", "sft_weight_only",
    };

    private static KdObjective Objective(string name) => name switch
    {
        "sft" => KdObjective.SftOnly,
        "fwd_kl" => new KdObjective(KdLossKind.FwdKl, SftWeight: 0.4),
        "bwd_kl" => new KdObjective(KdLossKind.BwdKl, SftWeight: 0.4),
        "jsd" => new KdObjective(KdLossKind.Jsd, SftWeight: 0.2, Beta: 0.3),
        "tail_fwd_kl" => new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.4),
        "tail_bwd_kl" => new KdObjective(KdLossKind.TailBwdKl, SftWeight: 0.1),
        "fwd_kl_scaled_t2" => new KdObjective(KdLossKind.FwdKl, SftWeight: 0.3, LogitsScale: 1.3, TargetLogitsScale: 0.8, Temperature: 2, TSquared: true),
        "tail_fwd_kl_scaled" => new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.4, LogitsScale: 0.7),
        "kd_only" => new KdObjective(KdLossKind.TailFwdKl, KdWeight: 1, SftWeight: 0),
        _ => new KdObjective(KdLossKind.FwdKl, KdWeight: 0, SftWeight: 1),
    };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void Written_Gradient_Should_Equal_Autograd_In_Value_And_Gradient(string name)
    {
        using var scope = NewDisposeScope();
        var objective = Objective(name);
        var teacher = name == "sft" ? null : Teacher();
        var (labels, mask) = (tensor(Labels), tensor(MaskValues));
        const double normaliser = 11;
        var logits = ToTensor(RandomRows(70, N, V), ScalarType.Float64, requiresGrad: true);
        // Row 0 is confident outside the teacher's ids and row 3 inside them, so one tail bucket is near the floor.
        using (no_grad())
        {
            logits[0, 1].add_(30);
            logits[3].index_add_(0, teacher?.TopkIds!.select(0, 3).to_type(ScalarType.Int64) ?? tensor(new long[] { 5 }),
                full(teacher is null ? 1 : K, 25.0, ScalarType.Float64), 1.0);
        }

        var reference = KdLoss.PerToken(objective, logits, labels, teacher);
        LossReduction.Normalised(reference.Total, mask, normaliser).backward();
        var (terms, gradient) = LogitGradient.PerToken(objective, logits.detach(), labels, teacher, mask, normaliser);

        AssertAllClose(ToDoubles(reference.Total), ToDoubles(terms.Total), 1e-12, "total");
        AssertAllClose(ToDoubles(reference.Kd), ToDoubles(terms.Kd), 1e-12, "kd");
        AssertAllClose(ToDoubles(reference.Sft), ToDoubles(terms.Sft), 1e-12, "sft");
        AssertAllClose(ToDoubles(logits.grad!), ToDoubles(gradient), 1e-12, "dlogits");
    }

    [Fact]
    public void Bf16_Logits_Should_Get_A_Bf16_Gradient_Close_To_Autograd()
    {
        using var scope = NewDisposeScope();
        var objective = new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.4);
        var teacher = Teacher();
        var logits = ToTensor(RandomRows(71, N, V), ScalarType.BFloat16, requiresGrad: true);
        var reference = KdLoss.PerToken(objective, logits, tensor(Labels), teacher);
        LossReduction.Normalised(reference.Total, null, N).backward();

        var (terms, gradient) = LogitGradient.PerToken(objective, logits.detach(), tensor(Labels), teacher, null, N);

        Assert.Equal(ScalarType.BFloat16, gradient.dtype);
        AssertAllClose(ToDoubles(reference.Total), ToDoubles(terms.Total), 1e-5, "total");
        AssertAllClose(ToDoubles(logits.grad!), ToDoubles(gradient), 2e-3, "dlogits");     // bf16 rounding of ~1e-1 gradients
    }

    // Overwriting lets the working block be the logits' storage (fp32) or the gradient land in it (bf16): x at the label
    // and K ids must be read first, and the values must be those of the path that keeps the logits, bit for bit.
    [Theory]
    [InlineData("fwd_kl", ScalarType.Float32)]
    [InlineData("tail_fwd_kl_scaled", ScalarType.Float32)]
    [InlineData("fwd_kl_scaled_t2", ScalarType.BFloat16)]
    [InlineData("tail_bwd_kl", ScalarType.BFloat16)]
    public void Overwriting_The_Logits_Should_Give_The_Same_Bits(string name, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (objective, teacher, labels, mask) = (Objective(name), Teacher(), tensor(Labels), tensor(MaskValues));
        var logits = ToTensor(RandomRows(74, N, V), dtype);
        var kept = LogitGradient.PerToken(objective, logits, labels, teacher, mask, 11);
        var before = logits.clone();
        var overwritten = LogitGradient.PerToken(objective, logits, labels, teacher, mask, 11, overwriteLogits: true);

        Assert.True(kept.Gradient.equal(overwritten.Gradient).all().item<bool>(), "gradient");
        Assert.True(kept.Terms.Total.equal(overwritten.Terms.Total).all().item<bool>(), "total");
        Assert.True(kept.Terms.Kd.equal(overwritten.Terms.Kd).all().item<bool>(), "kd");
        Assert.False(logits.equal(before).all().item<bool>(), "the logits' storage was reused");
    }

    [Fact]
    public void Applies_Only_To_Top_K_Teachers_And_Sft()
    {
        using var scope = NewDisposeScope();
        var full = TeacherSignal.FullLogits(ToTensor(RandomRows(72, N, V)));
        Assert.True(LogitGradient.Applies(KdObjective.SftOnly, null));
        Assert.True(LogitGradient.Applies(new KdObjective(KdLossKind.FwdKl), Teacher()));
        Assert.False(LogitGradient.Applies(new KdObjective(KdLossKind.FwdKl), full));
        Assert.False(LogitGradient.Applies(new KdObjective(KdLossKind.SampledRkl), Teacher()));
    }

    private static TeacherSignal Teacher()
    {
        var (ids, t, lse) = TopK(RandomRows(73, N, V), K);
        return TeacherSignal.TopK(ToTensor(ids).to_type(ScalarType.Int32), ToTensor(t), tensor(lse).to_type(ScalarType.Float32));
    }
}
