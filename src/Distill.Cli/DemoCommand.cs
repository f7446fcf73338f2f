using System.CommandLine;
using Distill.Samples;

namespace Distill.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var regenerate = new Option<string?>("--regenerate-sample")
        {
            Description = "rewrite DIR/data/{train,teacher-train,heldout}.jsonl and DIR/teacher's tokenizer files from the generator (maintainers only)",
            Hidden = true,
        };
        var command = new Command("demo", "Run the whole offline pipeline on the bundled sample: teacher top-K, SFT vs KD+SFT students, held-out table and report");
        var initTeacher = new Option<string?>("--init-teacher")
        {
            Description = "write the randomly initialised sample teacher (from DIR's tokenizer) into DIR, before distill train (maintainers only)",
            Hidden = true,
        };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "distill-demo" };
        var full = new Option<bool>("--full") { Description = "5 seeds instead of 3, and KD+SFT runs with the teacher's top-1, top-4 and top-32 (how much of its distribution is needed)" };
        var seeds = new Option<int?>("--seeds") { Description = "student seeds (mean ± std over them; default 3, 5 with --full)" };
        var sweep = new Option<string?>("--sweep")
        {
            Description = "instead of the demo, train SFT and KD+SFT at S for each seed under several settings and print the table: "
                + "lr (each method at --lrs) or objective (KD+SFT variants at the demo's lr) (maintainers only)",
            Hidden = true,
        };
        var lrs = new Option<string>("--lrs") { Description = "learning rates of --sweep lr, comma-separated", DefaultValueFactory = _ => "1e-3,2e-3,4e-3", Hidden = true };
        var sample = new Option<string?>("--sample") { Description = "the sample folder (default: samples/ of the source tree, searched upwards)" };
        var steps = new Option<int?>("--steps") { Description = "S, the SFT student's steps (KD+SFT runs 0.7·S and S)" };
        var student = new Option<string?>("--student")
        {
            Description = "the student's size as hidden,layers,heads,mlp (default: the demo's; for the sweeps behind samples/README.md) (maintainers only)",
            Hidden = true,
        };
        var init = new Option<DemoInit?>("--init")
        {
            Description = "where the students start: pruned from the teacher (the default) or random (one initialisation per seed) (maintainers only)",
            Hidden = true,
        };
        // The comparisons beside the default demo, one flag each: run, then the report text (also written to its file).
        var modes = new (Option<bool> Flag, Func<DemoOptions, TextWriter, string> Report, string ReportFile)[]
        {
            (new Option<bool>("--online")
            {
                Description = "instead of the offline demo, GKD's comparison: from an SFT warm start, SFT vs supervised KD (λ = 0) vs on-policy KD (λ = 1) with the live teacher, at equal steps",
            }, (o, log) => OnlineDemo.Report(o, OnlineDemo.Run(o, log)), OnlineDemo.ReportFile),
            (new Option<bool>("--black-box")
            {
                Description = "instead of the offline demo, KD from a served teacher: its top-20 log-probabilities from distill serve on loopback against white-box top-20 KD, held-out loss and answer accuracy",
            }, (o, log) =>
            {
                var (runs, caches) = BlackBoxDemo.Run(o, log);
                return BlackBoxDemo.Report(o, runs, caches);
            }, BlackBoxDemo.ReportFile),
            (new Option<bool>("--sdg")
            {
                Description = "instead of the offline demo, KD through generated data: SFT on the teacher's answers to the training prompts (greedy; 4 sampled; the sampled ones that are right) vs SFT on the references vs KD+SFT, at equal steps",
            }, (o, log) =>
            {
                var result = SdgDemo.Run(o, log);
                return SdgDemo.Report(o, result.Runs, result.Sets);
            }, SdgDemo.ReportFile),
        };
        command.Options.Add(outDir);
        command.Options.Add(full);
        command.Options.Add(sample);
        command.Options.Add(steps);
        foreach (var mode in modes) command.Options.Add(mode.Flag);
        command.Options.Add(seeds);
        command.Options.Add(sweep);
        command.Options.Add(lrs);
        command.Options.Add(student);
        command.Options.Add(init);
        command.Options.Add(regenerate);
        command.Options.Add(initTeacher);
        command.SetAction(parse => CliErrors.Run(parse, "distill demo", () =>
        {
            if (parse.GetValue(regenerate) is { } regenerateRoot)
            {
                string data = Path.Combine(regenerateRoot, "data");
                var sets = SampleGenerator.Write(data);
                int vocab = SampleTokenizer.Write(Path.Combine(regenerateRoot, "teacher"), SampleTokenizer.TrainingLines(sets));
                parse.InvocationConfiguration.Output.WriteLine($"wrote {data} and the tokenizer (vocab_size {vocab}) in {Path.Combine(regenerateRoot, "teacher")}");
                return 0;
            }
            if (parse.GetValue(initTeacher) is { } dir)
            {
                var config = SampleModels.TeacherConfig(SampleModels.VocabSize(dir));
                string tokenizer = Path.Combine(Path.GetTempPath(), $"distill-sample-tokenizer-{Guid.NewGuid():N}");
                Directory.CreateDirectory(tokenizer);
                foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
                    File.Copy(Path.Combine(dir, f), Path.Combine(tokenizer, f));
                SampleModels.Initialise(dir, config, tokenizer, seed: 6);
                Directory.Delete(tokenizer, recursive: true);
                parse.InvocationConfiguration.Output.WriteLine($"wrote a random teacher into {dir}");
                return 0;
            }
            var chosen = modes.Where(m => parse.GetValue(m.Flag)).Select(m => m.Flag.Name).Concat(parse.GetValue(sweep) is null ? [] : ["--sweep"]).ToArray();
            if (chosen.Length > 1)
            {
                parse.InvocationConfiguration.Error.WriteLine($"distill demo: {string.Join(" and ", chosen)} each run a different comparison; pass one of them");
                return 2;
            }
            string? root = parse.GetValue(sample) ?? FindSample();
            if (root is null || !File.Exists(Path.Combine(root, "data", "train.jsonl")))
            {
                parse.InvocationConfiguration.Error.WriteLine("distill demo: the sample folder (data/train.jsonl, teacher/) was not found; pass --sample DIR");
                return 2;
            }
            if (parse.GetValue(seeds) is < 1 || parse.GetValue(steps) is < 2)
            {
                parse.InvocationConfiguration.Error.WriteLine("distill demo: --seeds must be at least 1 and --steps at least 2");
                return 2;
            }
            bool isFull = parse.GetValue(full);
            var options = new DemoOptions(root, parse.GetValue(outDir)!, Seeds: parse.GetValue(seeds) ?? (isFull ? 5 : 3), KSweep: isFull ? [1, 4, 32] : null);
            if (parse.GetValue(steps) is { } s) options = options with { Steps = s };
            if (parse.GetValue(student) is { } size) options = WithStudent(options, size);
            if (parse.GetValue(init) is DemoInit.Random) options = options.WithRandomStudent();
            ResolvedSettings.Write(Path.Combine(options.Out, "demo_settings.json"), options);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(sweep) is { } kind)
            {
                var sweepRuns = Demo.RunPlans(options, DemoSweeps.Plans(kind, options, parse.GetValue(lrs)!), output);
                output.WriteLine();
                output.Write(DemoReport.Text(sweepRuns));
                return 0;
            }
            if (modes.FirstOrDefault(m => parse.GetValue(m.Flag)) is { Flag: not null } mode)
            {
                var text = mode.Report(options, output);
                output.WriteLine();
                output.Write(text);
                output.WriteLine($"report: {Path.Combine(options.Out, mode.ReportFile)}");
                return 0;
            }
            var runs = Demo.Run(options, output);
            output.WriteLine();
            output.Write(DemoReport.Text(runs));
            output.WriteLine(DemoReport.Verdict(runs));
            output.WriteLine(DemoReport.EfficiencyText(runs));
            output.WriteLine(DemoReport.DigitText(runs));
            output.WriteLine($"report: {Path.Combine(options.Out, DemoReport.ReportFile)}, figure: {Path.Combine(options.Out, DemoReport.PlotFile)}");
            return 0;
        }));
        return command;
    }

    private static DemoOptions WithStudent(DemoOptions options, string size)
    {
        var n = size.Split(',').Select(p => int.TryParse(p, System.Globalization.CultureInfo.InvariantCulture, out int v) && v > 0 ? v : 0).ToArray();
        if (n.Length != 4 || n.Contains(0))
            throw new ArgumentException($"distill demo --student: '{size}' is not hidden,layers,heads,mlp (four positive integers)");
        return options with { Hidden = n[0], Layers = n[1], Heads = n[2], Intermediate = n[3] };
    }

    private static string? FindSample()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "samples");
                if (File.Exists(Path.Combine(candidate, "data", "train.jsonl"))) return candidate;
            }
        }
        return null;
    }
}
