using System.Diagnostics;

namespace Distill.Tests.Serving;

/// <summary>
/// <c>distill serve</c> against the official <c>openai</c> npm client (tests/conformance/conformance.mjs), one test per
/// case so the CI count shows them. The client is installed from tests/conformance/package-lock.json (<c>.ci/run</c>
/// does it first; this test runs <c>npm ci</c> itself when node_modules is missing).
/// </summary>
public sealed class ConformanceTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static readonly Lock InstallLock = new();

    [Theory]
    [InlineData("models")]
    [InlineData("chat")]
    [InlineData("seeded_n")]
    [InlineData("stream")]
    [InlineData("logprobs")]
    [InlineData("completions_echo")]
    [InlineData("error_bad_parameter")]
    [InlineData("error_unknown_model")]
    [InlineData("error_context_length")]
    public async Task OpenAI_Node_Client_Case_Should_Pass(string name)
    {
        var folder = ConformanceFolder();
        Install(folder);

        var (exit, output) = await Run("node", folder, "conformance.mjs", f.Server.BaseUrl.ToString(), ServerFixture.Name, name);

        Assert.True(exit == 0, output);
        Assert.Contains($"ok   {name}", output);
    }

    private static string ConformanceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distill.sln"))) return Path.Combine(dir.FullName, "tests", "conformance");
        throw new InvalidOperationException($"no Distill.sln above {AppContext.BaseDirectory}");
    }

    private static void Install(string folder)
    {
        lock (InstallLock)
        {
            if (File.Exists(Path.Combine(folder, "node_modules", "openai", "package.json"))) return;
            var (exit, output) = Run("npm", folder, "ci", "--no-audit", "--no-fund").GetAwaiter().GetResult();
            Assert.True(exit == 0, $"npm ci in {folder} failed:\n{output}");
        }
    }

    private static async Task<(int Exit, string Output)> Run(string program, string folder, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{program} timed out\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, $"{await stdout}\n{await stderr}");
    }
}
