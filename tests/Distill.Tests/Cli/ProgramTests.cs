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
    [InlineData("train")]
    [InlineData("topk")]
    [InlineData("generate")]
    [InlineData("serve")]
    [InlineData("demo")]
    public void Commands_Should_Run_On_One_Thread_Unless_Told(string command)
    {
        // One thread: the choice docs/PERFORMANCE.md ("Threads") makes from `bench threads`.
        Assert.Equal(1, Program.Threads(Program.CreateRoot().Parse([command])));
        Assert.Equal(2, Program.Threads(Program.CreateRoot().Parse([command, "--threads", "2"])));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void Threads_Below_One_Should_Be_Refused(string value)
    {
        var parse = Program.CreateRoot().Parse(["inspect", "some-folder", "--threads", value]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--threads must be at least 1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--online", "--sdg")]
    [InlineData("--black-box", "--sweep", "lr")]
    public void Demo_Should_Refuse_Two_Comparisons_At_Once(params string[] flags)
    {
        var error = new StringWriter();
        var exit = Program.CreateRoot().Parse(["demo", "--out", Path.Combine(Path.GetTempPath(), $"distill-demo-{Guid.NewGuid():N}"), .. flags])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.Equal(2, exit);
        Assert.Contains("each run a different comparison; pass one of them", error.ToString());
        Assert.Contains(flags[0], error.ToString());
    }
}
