using System.Runtime.InteropServices;

namespace Distill.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM (what Slurm, Kubernetes and <c>timeout</c> send before killing) both cancel the long
/// commands' token instead of killing the process, so <c>train</c> checkpoints the last completed step and <c>topk</c>
/// keeps its complete shards; a second signal of either kind is not caught and ends the process at once.
/// </summary>
internal sealed class Signals : IDisposable
{
    /// <summary>Exit code of the last cancellation: 128 + the signal number, as shells report it.</summary>
    public static int ExitCode { get; private set; } = 130;

    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly TextWriter _error;
    private readonly string _name;

    /// <summary>Catches SIGINT and SIGTERM until disposed; <paramref name="name"/> and <paramref name="error"/> announce the first one.</summary>
    public Signals(string name, TextWriter error, string whatHappensNext)
    {
        (_name, _error, WhatHappensNext) = (name, error, whatHappensNext);
        ExitCode = 130;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    private string WhatHappensNext { get; }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    private void Handle(PosixSignalContext context)
    {
        if (_cancel.IsCancellationRequested) return; // the second signal: let it end the process
        context.Cancel = true;
        ExitCode = context.Signal == PosixSignal.SIGTERM ? 143 : 130;
        // Cancel before saying so: whoever reads the message may rely on the token being set already.
        _cancel.Cancel();
        _error.WriteLine($"{_name}: {(context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "interrupt")} received; {WhatHappensNext}");
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _cancel.Dispose();
    }
}
