using System.Diagnostics;
using Distill.Cli;
using Distill.Tests.Teachers;
using Distill.Training;

namespace Distill.Tests.Cli;

/// <summary>What reaches the user when a command fails: one bounded line naming the path, never a type name or a trace.</summary>
public sealed class CliErrorsTests
{
    [Fact]
    public void Describe_Should_Name_The_Path_Of_A_Permission_Fault_And_Hide_Unforeseen_Types()
    {
        var denied = CliErrors.Describe(new UnauthorizedAccessException("Access to the path '/data/x' is denied."));
        var unforeseen = CliErrors.Describe(new NullReferenceException());

        Assert.Contains("'/data/x'", denied, StringComparison.Ordinal);
        Assert.Contains("permission denied", denied, StringComparison.Ordinal);
        Assert.StartsWith("internal error: ", unforeseen, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", unforeseen, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Should_Quote_Only_A_Prefix_Of_A_Huge_Message()
    {
        var message = CliErrors.Describe(new InvalidDataException("bad line: " + new string('x', 10_000_000)));

        Assert.True(message.Length < 2100, $"{message.Length} characters");
        Assert.EndsWith("more characters)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Huge_Steps_Value_Should_Be_Reported_Against_The_Flag()
    {
        var error = new StringWriter();
        var exit = new System.CommandLine.RootCommand { TrainCommand.Create() }.Parse(
                ["train", "--student", "s", "--data", "d", "--out", "o", "--steps", "99999999999"])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.Equal(1, exit);
        Assert.Equal($"distill train: --steps: trainer.steps = '99999999999': expected an integer of at most {int.MaxValue}", error.ToString().Trim());
    }

    // File-system faults need a user the permissions apply to: the test runner is often root, so the command runs as
    // 'nobody' through setpriv (or directly when the runner is not root: the modes below deny the owner too).
    private static (int Exit, string Error) RunUnprivileged(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "distill.dll");
        var root = Environment.UserName == "root";
        if (root) CheckReachableByNobody(cli);
        var start = new ProcessStartInfo(root ? "setpriv" : "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in root ? ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", cli, .. args] : new[] { cli }.Concat(args))
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Result);
    }

    // A checkout in a folder only root may enter (mktemp -d makes one) hides the CLI from 'nobody'; say so instead of
    // failing with the .NET host's own permission error.
    private static void CheckReachableByNobody(string cli)
    {
        var probe = new ProcessStartInfo("setpriv") { RedirectStandardError = true };
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "test", "-r", cli }) probe.ArgumentList.Add(a);
        using var process = Process.Start(probe)!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"user 'nobody' cannot read {cli}: every folder above the checkout must be traversable (chmod o+x; .ci/run does this for the checkout itself)");
    }

    private static void AssertOneCleanLine(string error, string path)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, error);
        Assert.Contains(path, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_Of_An_Unreadable_Folder_Should_Name_It_In_One_Line()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var t = new TinyTeacher(conversations: 1);
        var locked = Path.Combine(t.Root, "locked");
        Directory.CreateDirectory(locked);
        File.WriteAllText(Path.Combine(locked, "manifest.json"), "{}");
        File.SetUnixFileMode(locked, UnixFileMode.None);   // unreadable to anyone but root

        var (exit, error) = RunUnprivileged("inspect", locked);
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Assert.Equal(1, exit);
        AssertOneCleanLine(error, locked);
        Assert.Contains("permission denied", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Topk_Into_A_Read_Only_Folder_Should_Fail_Before_Loading_The_Teacher()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var t = new TinyTeacher(conversations: 1);
        var readOnly = Path.Combine(t.Root, "read-only");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        // The teacher folder does not exist: only a check made before loading it can give the folder's error.
        var (exit, error) = RunUnprivileged("topk", "--teacher", Path.Combine(t.Root, "no-teacher"), "--data", t.Data, "--out", readOnly);

        Assert.Equal(1, exit);
        AssertOneCleanLine(error, readOnly);
        Assert.Contains("the output folder is not writable", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_Into_An_Unwritable_Folder_Should_Name_It_In_One_Line_And_Leave_Nothing()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var t = new TinyTeacher(conversations: 2);
        var readOnly = Path.Combine(t.Root, "read-only");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var outDir = Path.Combine(readOnly, "run");

        var (exit, error) = RunUnprivileged("train", "--student", t.Path, "--data", t.Data, "--out", outDir, "--steps", "1",
            "--global-batch", "1", "--set", "chat_format=chatml");

        Assert.Equal(1, exit);
        AssertOneCleanLine(error, outDir);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Train_On_Unreadable_Data_Should_Name_It_In_One_Line()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var t = new TinyTeacher(conversations: 2);
        File.SetUnixFileMode(t.Data, UnixFileMode.None);   // unreadable to anyone but root

        var (exit, error) = RunUnprivileged("train", "--student", t.Path, "--data", t.Data, "--out", t.Sub("run"), "--steps", "1",
            "--global-batch", "1", "--set", "chat_format=chatml");

        Assert.Equal(1, exit);
        AssertOneCleanLine(error, t.Data);
        Assert.Contains("permission denied", error, StringComparison.Ordinal);
    }
}
