using System.CommandLine;
using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Cli;

public static class Program
{
    /// <summary>
    /// <c>--threads N</c> on every command: libtorch's intra-op threads. Its default (one per core) is right for large
    /// models on an idle machine; small models, or a machine shared with other jobs, often run faster with fewer
    /// (threads that spin waiting for each other cost more than the work they share).
    /// </summary>
    public static Option<int?> Threads { get; } = CreateThreads();

    public static int Main(string[] args)
    {
        NativeHeap.KeepFreedMemory();
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count == 0 && parse.GetValue(Threads) is { } threads) set_num_threads(threads);
        return parse.Invoke();
    }

    /// <summary>The <c>distill</c> command with all its subcommands.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("distill: knowledge distillation of large language models during supervised fine-tuning");
        root.Options.Add(Threads);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TopKCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(InitStudentCommand.Create());
        return root;
    }

    private static Option<int?> CreateThreads()
    {
        var threads = new Option<int?>("--threads")
        {
            Description = "CPU threads for tensor operations (default: one per core)",
            Recursive = true,
        };
        threads.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--threads must be at least 1");
        });
        return threads;
    }
}
