using Distill.Cli;

namespace Distill.Tests.Cli;

public class ProgramTests
{
    [Fact]
    public void Threads_Should_Be_Accepted_After_Any_Subcommand()
    {
        var parse = Program.CreateRoot().Parse(["inspect", "some-folder", "--threads", "3"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(3, parse.GetValue(CommonOptions.Threads));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void Threads_Below_One_Should_Be_Refused(string value)
    {
        var parse = Program.CreateRoot().Parse(["inspect", "some-folder", "--threads", value]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--threads must be at least 1", StringComparison.Ordinal));
    }
}
