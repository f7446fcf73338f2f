using System.CommandLine;
using System.Text;

namespace Distill.Cli;

/// <summary>
/// The one place where an exception becomes what the user sees: one message naming the file, key or row (the library's
/// exceptions already do), prefixed by the command, and an exit code. Every command's action runs through
/// <see cref="Run"/>, so no .NET stack trace or exception type name reaches the terminal.
/// </summary>
/// <remarks>Exit codes (README, "Exit codes"): 0 success; 1 any error; 130 interrupted by Ctrl-C (SIGINT); 143 by SIGTERM.</remarks>
internal static class CliErrors
{
    /// <summary>Any error: bad input, bad data, a file-system fault, a run that could not finish.</summary>
    public const int Failed = 1;

    // A message can quote input (a JSON error, a template, a tensor name); past this it is cut, so a hostile 50 MB line
    // cannot become 50 MB of stderr.
    private const int MaxMessageChars = 2000;

    /// <summary>
    /// Runs <paramref name="body"/>; an exception becomes "<paramref name="name"/>: message" on the invocation's error
    /// writer and exit code <see cref="Failed"/>. A cancellation (Ctrl-C, SIGTERM: <see cref="Signals"/>) prints
    /// <paramref name="interrupted"/> and returns the signal's exit code.
    /// </summary>
    public static int Run(ParseResult result, string name, Func<int> body, string interrupted = "interrupted")
    {
        var error = result.InvocationConfiguration.Error;
        try
        {
            return body();
        }
        catch (OperationCanceledException)
        {
            error.WriteLine($"{name}: {interrupted}");
            return Signals.ExitCode;
        }
        catch (Exception e)
        {
            error.WriteLine($"{name}: {Describe(e)}");
            return Failed;
        }
    }

    /// <summary>The user's view of <paramref name="e"/>: its message, bounded, with the kind of fault when the message alone does not say it.</summary>
    internal static string Describe(Exception e)
    {
        var message = e switch
        {
            // .NET says "Access to the path '/x' is denied.": the path is there; say what to do about it.
            UnauthorizedAccessException => $"{e.Message} (permission denied: check the owner and mode of that path)",
            OutOfMemoryException => $"out of memory ({e.Message}); try a smaller batch or --max-seq-len",
            InvalidDataException or IOException or ArgumentException or NotSupportedException or FormatException
                or InvalidOperationException or KeyNotFoundException or DecoderFallbackException => e.Message,
            _ when e.GetType().Namespace?.StartsWith("Distill", StringComparison.Ordinal) == true => e.Message,
            // Native (libtorch) errors and anything unforeseen: the first line of the message, never the type or trace.
            _ => $"internal error: {FirstLine(e.Message)}",
        };
        return Bound(message);
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline].TrimEnd('\r');
    }

    private static string Bound(string text) =>
        text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + $"… ({text.Length - MaxMessageChars} more characters)";
}
