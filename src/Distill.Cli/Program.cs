using System.CommandLine;

namespace Distill.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Tensors.NativeHeap.KeepFreedMemory();
        var root = new RootCommand("distill: knowledge distillation of large language models during supervised fine-tuning");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TopKCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        return root.Parse(args).Invoke();
    }
}
