using System.CommandLine;
using Distill.Cli;
using Distill.Text.Templates;

namespace Distill.Tests.Cli;

/// <summary>The options several commands share are spelled, and accept values, the same way in every command.</summary>
public sealed class SharedOptionsTests
{
    private static readonly string[] Shared = ["--device", "--dtype", "--teacher-dtype", "--chat-format", "--supervise", "--format", "--json"];

    private static IEnumerable<Command> Commands(Command command) => command.Subcommands.SelectMany(Commands).Prepend(command);

    private static IEnumerable<(Command Command, Option Option)> SharedOptions() =>
        Commands(Program.CreateRoot()).SelectMany(c => c.Options.Where(o => Shared.Contains(o.Name)).Select(o => (c, o)));

    [Fact]
    public void Every_Dtype_Option_Should_Take_Fp32_Bf16_And_Their_Long_Names_And_Nothing_Else()
    {
        var dtypes = SharedOptions().Where(p => p.Option.Name.EndsWith("dtype", StringComparison.Ordinal)).ToArray();
        Assert.True(dtypes.Length >= 6, $"{dtypes.Length} dtype options");   // topk, eval, generate, serve, train (×2)
        foreach (var (command, option) in dtypes)
        {
            foreach (var name in new[] { "fp32", "bf16", "float32", "bfloat16" })
                Assert.Empty(Errors(command, option, name));
            Assert.NotEmpty(Errors(command, option, "f16"));
        }
    }

    [Fact]
    public void Every_Chat_Format_Option_Should_Take_Exactly_The_Built_In_Templates()
    {
        var formats = SharedOptions().Where(p => p.Option.Name == "--chat-format").ToArray();
        Assert.True(formats.Length >= 6, $"{formats.Length} --chat-format options");
        foreach (var (command, option) in formats)
        {
            foreach (var name in ChatTemplate.BuiltInFormats) Assert.Empty(Errors(command, option, name));
            Assert.NotEmpty(Errors(command, option, "vicuna"));
        }
    }

    [Fact]
    public void Shared_Options_Should_Have_One_Description_Per_Name_Up_To_Whose_They_Are()
    {
        // A shared option's help may say whose it is ("Local teacher: ..."), never different values or defaults.
        foreach (var group in SharedOptions().GroupBy(p => p.Option.Name))
        {
            var accepted = group.Select(p => string.Join('|', p.Option.CompletionSources.SelectMany(s => s(System.CommandLine.Completions.CompletionContext.Empty))
                .Select(c => c.Label).Order(StringComparer.Ordinal))).Distinct().ToArray();
            Assert.True(accepted.Length == 1, $"{group.Key}: {string.Join(" / ", accepted)}");
        }
    }

    // The errors of the command's option given value, parsed on its own (the command's other rules aside).
    private static string[] Errors(Command command, Option option, string value)
    {
        Assert.Contains(option, command.Options);
        return [.. new RootCommand { option }.Parse([option.Name, value]).Errors.Select(e => e.Message)];
    }

    private sealed record Settings(int Count = 3, string Name = "default", bool Flag = false);

    [Fact]
    public void Record_Options_Should_Keep_The_Records_Defaults_And_Apply_What_Is_Given()
    {
        var options = new RecordOptions<Settings>(new Settings());
        options.Add(new Option<int>("--count"), (r, v) => r with { Count = v }, r => r.Count);
        options.Add(new Option<string>("--name"), (r, v) => r with { Name = v });
        options.Add(new Option<bool>("--flag"), (r, v) => r with { Flag = v });
        var command = new RootCommand();
        options.AddTo(command);

        Assert.Equal(new Settings(), options.Bind(command.Parse([])));
        Assert.Equal(new Settings(7, "given", true), options.Bind(command.Parse(["--count", "7", "--name", "given", "--flag"])));
        Assert.Equal(new Settings(3, "x"), options.Bind(command.Parse(["--name", "x"])));
    }
}
