namespace Distill.Tests.Training;

public sealed partial class TrainInputTests
{
    [Fact]
    public void Resuming_A_Finished_Run_Should_Say_Nothing_Was_Left_And_Leave_Its_Student_As_It_Is()
    {
        var data = Jsonl(Utf8(Short), Utf8(Short));
        Assert.Equal(0, Train(data, null, "--set", "save_interval=1").Exit);
        var weights = Path.Combine(_folder.Sub("out"), "final", "model.safetensors");
        var written = File.GetLastWriteTimeUtc(weights);

        var (exit, output, error) = Train(data, null, "--resume", "--set", "save_interval=1");

        Assert.True(exit == 0, error);
        Assert.Contains("nothing left to do", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", output, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(weights));
    }
}
