using Distill.Training;

namespace Distill.Tests.Training;

public class LrScheduleTests
{
    private static readonly OptimizerOptions Base = new(Lr: 1.0, MinLr: 0.1, WarmupSteps: 2);

    // steps = 6, warmup = 2: steps 0, 1 warm up to lr; then p = (s − 2)/4 for s = 2..5.
    [Theory]
    [InlineData(ScheduleKind.Cosine, new[] { 0.5, 1.0, 1.0, 0.868198051533946, 0.55, 0.231801948466054 })]
    [InlineData(ScheduleKind.Linear, new[] { 0.5, 1.0, 1.0, 0.775, 0.55, 0.325 })]
    [InlineData(ScheduleKind.Constant, new[] { 0.5, 1.0, 1.0, 1.0, 1.0, 1.0 })]
    public void At_Should_Warm_Up_Then_Decay_Towards_Min_Lr(ScheduleKind kind, double[] expected)
    {
        var options = Base with { Schedule = kind };
        for (var s = 0; s < expected.Length; s++)
            Assert.Equal(expected[s], LrSchedule.At(options, s, 6), 12);
    }

    [Fact]
    public void At_Should_Start_At_Lr_Without_Warmup_And_Stop_At_Min_Lr_Past_The_End()
    {
        var options = Base with { WarmupSteps = 0 };
        Assert.Equal(1.0, LrSchedule.At(options, 0, 5), 12);
        Assert.Equal(0.1, LrSchedule.At(options, 5, 5), 12);
        Assert.Equal(0.1, LrSchedule.At(options, 9, 5), 12);
    }

    [Fact]
    public void At_Should_Reach_Lr_When_Warmup_Covers_Every_Step()
    {
        var options = Base with { WarmupSteps = 3 };
        Assert.Equal(new[] { 1.0 / 3, 2.0 / 3, 1.0 }, Enumerable.Range(0, 3).Select(s => LrSchedule.At(options, s, 3)));
    }
}
