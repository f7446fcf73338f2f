using System.CommandLine;

namespace Distill.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run the whole offline distillation pipeline on the bundled sample (not yet available: see issue 6)");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("distill demo: not available yet; the pipeline stages land first (issue 6).");
            return 2;
        });
        return command;
    }
}
