using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Distill.Bench;

/// <summary>
/// bench/pytorch/peer.py run by the system's Python (Debian's python3-torch installs for /usr/bin/python3, not for a
/// Python on PATH; <c>DISTILL_PEER_PYTHON</c> names another): one-shot runs, or a long-lived <c>serve</c> process that
/// answers one JSON line per request line, so the bench can alternate its steps with Distill's in one run.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private const string PythonVariable = "DISTILL_PEER_PYTHON";
    private readonly Process _process;

    private PeerProcess(Process process) => _process = process;

    public static string Python => Environment.GetEnvironmentVariable(PythonVariable) ?? "/usr/bin/python3";

    /// <summary>bench/pytorch/peer.py found upward from the bench's binaries, or null.</summary>
    public static string? Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "bench", "pytorch", "peer.py");
            if (File.Exists(script)) return script;
        }
        return null;
    }

    /// <summary>Why the peer cannot run here (no script, no Python, no torch), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (Script() is null) return "bench/pytorch/peer.py was not found above the bench's binaries";
        if (!File.Exists(Python)) return $"{Python} does not exist (set {PythonVariable} to a Python with torch)";
        var (code, _, _) = RunToEnd(["-c", "import torch"]);
        return code == 0 ? null
            : $"{Python} has no torch: install Debian's python3-torch and OpenBLAS with 'bench/pytorch/peer.sh --install' (apt, as root), or set {PythonVariable}";
    }

    /// <summary>Runs the peer with <paramref name="arguments"/> to its end and parses the JSON it prints.</summary>
    public static JsonNode RunJson(params string[] arguments)
    {
        var (code, stdout, stderr) = RunToEnd([Script()!, .. arguments]);
        if (code != 0) throw new InvalidOperationException($"peer.py {string.Join(' ', arguments)} exited with {code}: {stderr.Trim()}");
        return JsonNode.Parse(stdout) ?? throw new InvalidOperationException($"peer.py {string.Join(' ', arguments)} printed no JSON");
    }

    /// <summary>Starts <c>peer.py serve</c> and waits for its ready line (returned: torch version, threads, dtype).</summary>
    public static (PeerProcess Peer, JsonNode Ready) Serve(params string[] arguments)
    {
        var process = Process.Start(Info([Script()!, "serve", .. arguments], redirectInput: true))!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"peer.py: {e.Data}"); };
        process.BeginErrorReadLine();
        var peer = new PeerProcess(process);
        return (peer, peer.ReadLine());
    }

    /// <summary>One request line, one JSON answer.</summary>
    public JsonNode Request(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        return ReadLine();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine("quit");
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill();
        }
        _process.Dispose();
    }

    private JsonNode ReadLine()
    {
        var line = _process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"peer.py serve ended (exit {(_process.WaitForExit(5000) ? _process.ExitCode : -1)}) without answering");
        var answer = JsonNode.Parse(line)!;
        if (answer["error"] is { } error) throw new InvalidOperationException($"peer.py serve: {error}");
        return answer;
    }

    private static (int Code, string Stdout, string Stderr) RunToEnd(string[] arguments)
    {
        using var process = Process.Start(Info(arguments, redirectInput: false))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    private static ProcessStartInfo Info(string[] arguments, bool redirectInput)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }
}
