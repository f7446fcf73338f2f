using Distill.Losses;

namespace Distill.Tests.Losses;

public class KdObjectiveTests
{
    [Fact]
    public void Defaults_Should_Be_NeMo_Aligner_Defaults_And_Valid()
    {
        var o = new KdObjective();
        o.Validate();
        Assert.Equal((KdLossKind.FwdKl, 1.0, 0.0, 1.0, 1.0, 1.0, false), (o.Kind, o.KdWeight, o.SftWeight, o.LogitsScale, o.TargetLogitsScale, o.Temperature, o.TSquared));
        KdObjective.SftOnly.Validate();
    }

    [Theory]
    [InlineData("beta", 1.5, 1.0, 0.0, 1.0, 1.0)]
    [InlineData("kd_weight", 0.5, -1.0, 0.0, 1.0, 1.0)]
    [InlineData("sft_weight", 0.5, 1.0, double.NaN, 1.0, 1.0)]
    [InlineData("temperature", 0.5, 1.0, 0.0, 0.0, 1.0)]
    [InlineData("logits_scale", 0.5, 1.0, 0.0, 1.0, -2.0)]
    [InlineData("both 0", 0.5, 0.0, 0.0, 1.0, 1.0)]
    public void Validate_Should_Name_The_Bad_Key(string key, double beta, double kdWeight, double sftWeight, double temperature, double logitsScale)
    {
        var o = new KdObjective(Beta: beta, KdWeight: kdWeight, SftWeight: sftWeight, Temperature: temperature, LogitsScale: logitsScale);
        var ex = Assert.Throws<InvalidDataException>(o.Validate);
        Assert.Contains(key == "both 0" ? "both 0" : key, ex.Message);
    }

    [Theory]
    [InlineData(KdLossKind.TailFwdKl, 2.0, 1.0, "temperature")]
    [InlineData(KdLossKind.TailBwdKl, 1.0, 0.5, "target_logits_scale")]
    public void Validate_Should_Reject_Teacher_Rescaling_For_Tail_Aware_Kd(KdLossKind kind, double temperature, double targetScale, string key)
    {
        var ex = Assert.Throws<InvalidDataException>(new KdObjective(kind, Temperature: temperature, TargetLogitsScale: targetScale).Validate);
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void Kind_Names_Should_Round_Trip_And_Unknown_Names_Should_Throw()
    {
        foreach (var kind in Enum.GetValues<KdLossKind>())
            Assert.Equal(kind, KdObjective.ParseKind(KdObjective.Name(kind)));
        Assert.Equal(KdLossKind.TailBwdKl, KdObjective.ParseKind(" TAIL_BWD_KL "));
        Assert.Contains("kd_loss", Assert.Throws<InvalidDataException>(() => KdObjective.ParseKind("kl")).Message);
    }

    [Fact]
    public void KdFactor_Should_Be_T_Squared_Only_When_Enabled()
    {
        Assert.Equal(1.0, new KdObjective(Temperature: 3).KdFactor);
        Assert.Equal(9.0, new KdObjective(Temperature: 3, TSquared: true).KdFactor);
    }
}
