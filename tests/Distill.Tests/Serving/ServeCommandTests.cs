using System.CommandLine;
using System.Text.Json.Nodes;
using Distill.Cli;
using Distill.Tests.Teachers;

namespace Distill.Tests.Serving;

public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_Should_Answer_Until_Cancelled_Then_Exit_Zero()
    {
        using var tiny = new TinyTeacher(conversations: 1);
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var root = new RootCommand { ServeCommand.Create() };
        var run = root.Parse(["serve", "--model", tiny.Path, "--chat-format", "chatml", "--port", "0", "--served-model-name", "t"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, stop.Token);
        string? url = null;
        for (var i = 0; i < 600 && url is null && !run.IsCompleted; i++)
        {
            await Task.Delay(50);
            var text = output.ToString();
            var at = text.IndexOf("http://", StringComparison.Ordinal);
            if (at >= 0) url = text[at..].Split(' ')[0];
        }
        Assert.True(url is not null, $"no address printed: {output}{error}");

        using var http = new HttpClient();
        var models = JsonNode.Parse(await http.GetStringAsync(url + "models"))!;
        stop.Cancel();
        var exit = await run;

        Assert.Equal("t", (string?)models["data"]![0]!["id"]);
        Assert.Equal(0, exit);
    }

    [Fact]
    public void Serve_A_Missing_Folder_Should_Fail_With_One_Line()
    {
        var error = new StringWriter();
        var root = new RootCommand { ServeCommand.Create() };

        var exit = root.Parse(["serve", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N")), "--port", "0"])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.Equal(1, exit);
        Assert.StartsWith("distill serve: ", error.ToString());
        Assert.Single(error.ToString().Trim().Split('\n'));
    }
}
