using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Models;

namespace Distill.Cli;

/// <summary><c>distill init-student</c>: a thin shell over <see cref="StudentInit.Run"/>.</summary>
public static class InitStudentCommand
{
    /// <summary>The <c>init-student</c> command.</summary>
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "the teacher's Hugging Face folder", Required = true };
        var outDir = new Option<string>("--out") { Description = "the student's folder (new or empty)", Required = true };
        var layers = new Option<string?>("--layers") { Description = "teacher decoder layers to copy, in order: 0,2,4,…" };
        var every = new Option<int?>("--every") { Description = "copy every N-th teacher layer from layer 0 (DistilBERT: 2)" };
        var config = new Option<string?>("--config") { Description = "JSON object of config.json keys for a smaller student initialised at random (hidden_size, num_hidden_layers, …)" };
        var seed = new Option<long?>("--seed") { Description = "seed of the random initialisation" };
        var hidden = new Option<int?>("--hidden-size") { Description = "width pruning (Minitron): embedding channels to keep, ranked by the teacher's activations on --calibration" };
        var intermediate = new Option<int?>("--intermediate-size") { Description = "width pruning: MLP neurons to keep in every layer" };
        var heads = new Option<int?>("--num-attention-heads") { Description = "width pruning: attention heads to keep in every layer (whole key/value groups)" };
        var calibration = new Option<string?>("--calibration") { Description = "chat or pre-tokenized JSONL the teacher runs on to rank channels, heads and neurons for width pruning" };
        var calibrationCount = new Option<int>("--calibration-examples") { Description = "how many of --calibration's first examples to run", DefaultValueFactory = _ => 128 };
        var command = new Command("init-student", "Make a student Hugging Face folder from its teacher: a subset of its layers, narrowed by width pruning or not, or a smaller random model with its tokenizer");
        foreach (var option in new Option[] { teacher, outDir, layers, every, hidden, intermediate, heads, calibration, calibrationCount, config, seed }) command.Options.Add(option);
        command.SetAction(parse => CliErrors.Run(parse, "distill init-student", () =>
        {
            var dir = parse.GetValue(teacher)!;
            var widths = new PruneWidths(parse.GetValue(hidden), parse.GetValue(intermediate), parse.GetValue(heads));
            bool pruned = widths != new PruneWidths();
            if (parse.GetValue(layers) is not null && parse.GetValue(every) is not null) throw new InvalidDataException("--layers and --every both choose teacher layers: give exactly one of them");
            bool copied = parse.GetValue(layers) is not null || parse.GetValue(every) is not null || pruned;
            if (copied == (parse.GetValue(config) is not null))
                throw new InvalidDataException("give exactly one of: teacher layers (--layers or --every) and/or pruned widths (--hidden-size, --intermediate-size, --num-attention-heads), or --config");
            if (pruned != (parse.GetValue(calibration) is not null))
                throw new InvalidDataException(pruned ? "width pruning needs --calibration: the teacher's activations on it rank what is kept" : "--calibration is for width pruning: give --hidden-size, --intermediate-size or --num-attention-heads");
            if (parse.GetValue(calibrationCount) < 1) throw new InvalidDataException($"--calibration-examples {parse.GetValue(calibrationCount)} must be at least 1");
            var options = new StudentInitOptions(dir, parse.GetValue(outDir)!);
            if (pruned) options = options with { Widths = widths, Calibration = Distill.Training.TrainingData.Sequences(parse.GetValue(calibration)!, dir, parse.GetValue(calibrationCount)) };
            if (parse.GetValue(seed) is { } s) options = options with { Seed = s };
            if (parse.GetValue(layers) is { } list) options = options with { Layers = ParseLayers(list) };
            if (parse.GetValue(every) is { } n)
                options = options with { Layers = StudentInitOptions.EveryNth(LlamaConfig.Load(Path.Combine(dir, "config.json")).NumHiddenLayers, n) };
            if (parse.GetValue(config) is { } file) options = options with { ConfigOverrides = ReadOverrides(file) };
            var made = StudentInit.Run(options);
            parse.InvocationConfiguration.Output.WriteLine(
                $"distill init-student: {options.Out}: {made.NumHiddenLayers} layers, hidden {made.HiddenSize}; {StudentInit.Describe(made)}");
            return 0;
        }));
        return command;
    }

    private static int[] ParseLayers(string list)
    {
        var parts = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return [.. parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
            : throw new InvalidDataException($"--layers '{list}': '{p}' is not a layer number"))];
    }

    private static JsonObject ReadOverrides(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: not found", file);
        try
        {
            return JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new InvalidDataException($"{file}: expected a JSON object of config.json keys");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{file}: not valid JSON: {e.Message}", e);
        }
    }
}
