using System.Diagnostics;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// The one terminal rule and the one progress adapter of the commands. Everything goes to the invocation's output writer:
/// on a terminal through a Spectre console over that writer (a progress bar, colour), elsewhere as plain lines.
/// </summary>
internal static class Terminal
{
    /// <summary>Plain progress: at most one line per this interval, so a log of a long job stays readable.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A console over <paramref name="output"/> when it is the process's own standard output and that is a terminal (not a
    /// file, a pipe or a test's writer); null otherwise, when the command prints plain lines.
    /// </summary>
    public static IAnsiConsole? Open(TextWriter output) => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
        ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) })
        : null;

    /// <summary>Runs <paramref name="run"/> under one progress bar on <paramref name="console"/> (description, bar, percentage, elapsed, remaining).</summary>
    public static TResult WithBar<TResult>(IAnsiConsole console, Func<ProgressTask, TResult> run)
    {
        TResult result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => result = run(context.AddTask("starting", maxValue: 1)));
        return result;
    }

    /// <summary>
    /// The progress adapter: <paramref name="report"/> on the reporting thread, in order (<see cref="Progress{T}"/> would
    /// post to the thread pool and could print after the summary), one report at a time (reports may come from many threads).
    /// </summary>
    public static IProgress<T> Report<T>(Action<T> report) => new CallbackProgress<T>(report);

    /// <summary>
    /// Plain lines: the first report, then at most one every <see cref="PlainInterval"/>, and at once any report for which
    /// <paramref name="always"/> holds; <paramref name="line"/> returns null for a report not to be written.
    /// </summary>
    public static IProgress<T> Lines<T>(TextWriter output, Func<T, string?> line, Func<T, bool> always)
    {
        Stopwatch? sinceLine = null;
        return Report<T>(p =>
        {
            if (sinceLine is not null && sinceLine.Elapsed < PlainInterval && !always(p)) return;
            sinceLine = Stopwatch.StartNew();
            if (line(p) is { } text) output.WriteLine(text);
        });
    }

    private sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock _lock = new();

        public void Report(T value)
        {
            lock (_lock) report(value);
        }
    }
}
