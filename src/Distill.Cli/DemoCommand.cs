using System.CommandLine;
using Distill.Samples;

namespace Distill.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var regenerate = new Option<string?>("--regenerate-sample")
        {
            Description = "rewrite DIR/data/{train,heldout}.jsonl and DIR/teacher's tokenizer files from the generator (maintainers only)",
            Hidden = true,
        };
        var command = new Command("demo", "Run the whole offline distillation pipeline on the bundled sample (not yet available: see issue 6)");
        var initTeacher = new Option<string?>("--init-teacher")
        {
            Description = "write the randomly initialised sample teacher (from DIR's tokenizer) into DIR, before distill train (maintainers only)",
            Hidden = true,
        };
        command.Options.Add(regenerate);
        command.Options.Add(initTeacher);
        command.SetAction(parse =>
        {
            if (parse.GetValue(regenerate) is { } root)
            {
                string data = Path.Combine(root, "data");
                SampleGenerator.Write(data);
                int vocab = SampleTokenizer.Write(Path.Combine(root, "teacher"), Path.Combine(data, "train.jsonl"));
                parse.InvocationConfiguration.Output.WriteLine($"wrote {data} and the tokenizer (vocab_size {vocab}) in {Path.Combine(root, "teacher")}");
                return 0;
            }
            if (parse.GetValue(initTeacher) is { } dir)
            {
                var config = SampleModels.Config(SampleModels.VocabSize(dir), hidden: 160, layers: 4, heads: 5, intermediate: 448);
                string tokenizer = Path.Combine(Path.GetTempPath(), $"distill-sample-tokenizer-{Guid.NewGuid():N}");
                Directory.CreateDirectory(tokenizer);
                foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
                    File.Copy(Path.Combine(dir, f), Path.Combine(tokenizer, f));
                SampleModels.Initialise(dir, config, tokenizer, seed: 6);
                Directory.Delete(tokenizer, recursive: true);
                parse.InvocationConfiguration.Output.WriteLine($"wrote a random teacher into {dir}");
                return 0;
            }
            Console.Error.WriteLine("distill demo: not available yet; the pipeline stages land first (issue 6).");
            return 2;
        });
        return command;
    }
}
