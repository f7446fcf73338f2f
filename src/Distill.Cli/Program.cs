using System.CommandLine;
using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        NativeHeap.KeepFreedMemory();
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count == 0) set_num_threads(Threads(parse));
        return parse.Invoke();
    }

    /// <summary>The intra-op threads the parsed command runs with: <c>--threads</c>, or <see cref="CommonOptions.DefaultThreads"/>.</summary>
    internal static int Threads(ParseResult parse) => parse.GetValue(CommonOptions.Threads) ?? CommonOptions.DefaultThreads;

    /// <summary>The <c>distill</c> command with all its subcommands.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("distill: knowledge distillation of large language models during supervised fine-tuning");
        root.Options.Add(CommonOptions.Threads);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TopKCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(InitStudentCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        return root;
    }
}
