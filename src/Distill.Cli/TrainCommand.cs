using System.CommandLine;
using System.Globalization;
using Distill.Training;
using Spectre.Console;

namespace Distill.Cli;

/// <summary><c>distill train</c>: a thin shell over <see cref="Trainer.Run(TrainConfig, IProgress{TrainProgress}?, CancellationToken)"/>.</summary>
public static class TrainCommand
{
    // Flag → recipe key. Flags override the recipe; --set overrides both.
    private static readonly (string Flag, string Key, string Help)[] Flags =
    [
        ("--steps", "trainer.steps", "optimizer steps"),
        ("--lr", "optimizer.lr", "peak learning rate"),
        ("--global-batch", "trainer.global_batch", "examples per optimizer step"),
        ("--micro-batch", "trainer.micro_batch", "examples per forward pass (divides the global batch)"),
        ("--kd-loss", "objective.kd_loss", "fwd_kl | bwd_kl | tail_fwd_kl | tail_bwd_kl | jsd | sampled_rkl (on-policy, needs a live teacher)"),
        ("--beta", "objective.beta", "jsd interpolation: 0 = forward KL(T||S), 1 = reverse KL(S||T)"),
        ("--teacher", "model.teacher", "a live teacher's Hugging Face folder (online KD on JSONL data, instead of a cache)"),
        ("--teacher-url", "model.teacher_url", "an OpenAI-compatible server as the teacher: it scores the data's tokens (top-K rows with --teacher-top-k, K ≤ 20; or each token's log-probability for --kd-loss sampled_rkl)"),
        ("--teacher-model", "model.teacher_model", "the model name to ask --teacher-url for (default: the first of its /v1/models)"),
        ("--teacher-top-k", "model.teacher_top_k", "the live or served teacher answers with its top-K, computed on the fly (default: full vocabulary; a served teacher: K ≤ 20)"),
        ("--kd-weight", "objective.kd_weight", "weight of the KD term (0 = SFT baseline)"),
        ("--sft-weight", "objective.sft_weight", "weight of the cross-entropy term"),
        ("--logits-scale", "objective.logits_scale", "student logit scale"),
        ("--target-logits-scale", "objective.target_logits_scale", "teacher logit scale"),
        ("--top-k", "data.top_k", "use the first K of the cache's K"),
        ("--lambda", "online.lambda", "on-policy fraction: of each global batch, the share of completions the student samples itself (needs --teacher)"),
        ("--max-new-tokens", "online.max_new_tokens", "longest sampled completion"),
        ("--gen-temperature", "online.gen_temperature", "sampling temperature (0 = greedy)"),
        ("--gen-top-p", "online.gen_top_p", "nucleus sampling mass"),
        ("--gen-top-k", "online.gen_top_k", "sample among the K most likely tokens (0 = off)"),
        ("--feature-loss", "feature.loss", "hidden-state distillation with --teacher: none | cosine | mse | attention (MiniLM attention and value relations)"),
        ("--feature-weight", "feature.weight", "weight of the feature term"),
        ("--layer-map", "feature.layer_map", "student:teacher layer pairs, e.g. 0:1,1:3 (default: every student layer, evenly spaced, last to last)"),
        ("--feature-tokens", "feature.tokens", "positions the feature term covers: supervised | all"),
        ("--attention-heads", "feature.heads", "attention relations: auto | match | average (heads paired one to one, or averaged)"),
        ("--temperature", "objective.temperature", "KD temperature"),
        ("--seed", "trainer.seed", "data-order seed"),
        ("--val-data", "data.val_data", "held-out cache or JSONL"),
        ("--val-interval", "trainer.val_interval", "validate every N steps"),
        ("--save-interval", "trainer.save_interval", "checkpoint every N steps"),
        ("--max-skipped-fraction", "trainer.max_skipped_fraction", "with --skip-nonfinite, stop once more than this fraction of the steps was skipped"),
    ];

    private const string Interrupted = "interrupted; the checkpoint in the output folder's checkpoints/ holds the last completed step (rerun with --resume)";

    /// <summary>The <c>train</c> command; a progress bar on a terminal, plain lines to the invocation's output otherwise.</summary>
    public static Command Create()
    {
        var student = new Option<string>("--student") { Description = "the student's Hugging Face folder", Required = true };
        var data = new Option<string>("--data") { Description = "logit cache folder (KD + SFT) or JSONL (plain SFT, or online KD with --teacher)", Required = true };
        var outDir = new Option<string>("--out") { Description = "output folder", Required = true };
        var recipe = new Option<string?>("--config") { Description = "YAML recipe (sections model, data, objective, online, optimizer, trainer)" };
        var set = new Option<string[]>("--set") { Description = "override any recipe key: key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<bool>("--resume") { Description = "continue from the newest checkpoint in --out" };
        var skip = new Option<bool>("--skip-nonfinite") { Description = "skip and count non-finite steps instead of stopping" };
        var seqKd = new Option<bool>("--seq-kd") { Description = "completions not sampled by the student are sampled by the teacher (sequence-level KD)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a previous run's final/ and metrics in --out (a folder with checkpoints needs --resume or another folder)" };
        var (maxSeqLen, skipBad, noVerify) = (CommonOptions.MaxSeqLen(), CommonOptions.SkipBad(), CommonOptions.NoVerify());
        // The shared options, spelled as every command spells them, set recipe keys like the flags above.
        (Option<string?> Option, string Key)[] shared =
        [
            (CommonOptions.Device(), "model.device"), (CommonOptions.DType("Compute dtype (with fp32 master weights)"), "model.dtype"),
            (CommonOptions.DType("The live teacher's dtype (default: --dtype)", "--teacher-dtype"), "model.teacher_dtype"),
            (CommonOptions.ChatFormat(), "data.chat_format"), (CommonOptions.Supervise(), "data.supervise"),
        ];
        var flags = Flags.Select(f => (Option: new Option<string?>(f.Flag) { Description = f.Help }, f.Key)).Concat(shared).ToArray();
        // A flag's default is the recipe's (a --config file may change it), shown from the one default config.
        foreach (var (option, key) in flags)
            if (TrainConfigYaml.ValueOf(TrainConfig.Default, key) is var value and not "null") option.Description += $" [default: {value.Trim('"')}]";

        var command = new Command("train", "Train a student with KD + SFT from a logit cache or a live teacher (or plain SFT from JSONL). " +
            "Ctrl-C or SIGTERM saves a checkpoint after the current step, then exits 130 or 143; any error exits 1");
        foreach (var option in new Option[] { student, data, outDir, recipe, set, resume, skip, seqKd, overwrite, maxSeqLen, skipBad, noVerify }.Concat(flags.Select(f => f.Option)))
            command.Options.Add(option);
        command.SetAction(parse => CliErrors.Run(parse, "distill train", () =>
        {
            // (option, key=value): a bad value is reported against the option the user typed.
            var overrides = new List<(string Where, string Assignment)>
            {
                ("--student", "model.student=" + parse.GetValue(student)), ("--data", "data.path=" + parse.GetValue(data)),
                ("--out", "trainer.out=" + parse.GetValue(outDir)),
            };
            overrides.AddRange(flags.Where(f => parse.GetValue(f.Option) is not null).Select(f => (f.Option.Name, $"{f.Key}={parse.GetValue(f.Option)}")));
            if (parse.GetValue(resume)) overrides.Add(("--resume", "trainer.resume=true"));
            if (parse.GetValue(skip)) overrides.Add(("--skip-nonfinite", "trainer.skip_nonfinite=true"));
            if (parse.GetValue(seqKd)) overrides.Add(("--seq-kd", "online.seq_kd=true"));
            if (parse.GetValue(overwrite)) overrides.Add(("--overwrite", "trainer.overwrite=true"));
            if (parse.GetValue(maxSeqLen) is { } length) overrides.Add(("--max-seq-len", $"data.max_seq_len={length}"));
            if (parse.GetValue(skipBad)) overrides.Add(("--skip-bad", "data.skip_bad=true"));
            if (parse.GetValue(noVerify)) overrides.Add(("--no-verify", "data.verify=false"));
            overrides.AddRange((parse.GetValue(set) ?? []).Select(s => ("--set", s)));
            using var signals = new Signals("distill train", parse.InvocationConfiguration.Error, "saving a checkpoint after the current step…");
            return Execute(parse.GetValue(recipe), overrides, parse.InvocationConfiguration.Output, signals.Token);
        }, Interrupted));
        return command;
    }

    private static int Execute(string? recipe, List<(string Where, string Assignment)> overrides, TextWriter output, CancellationToken cancel)
    {
        var config = recipe is null ? TrainConfig.Default : TrainConfigYaml.Load(recipe);
        foreach (var (where, assignment) in overrides) config = TrainConfigYaml.Override(config, [assignment], where);
        config.Validate();
        var result = Terminal.Open(output) is { } console
            ? Terminal.WithBar(console, task => Trainer.Run(config, Terminal.Report<TrainProgress>(p =>
            {
                task.MaxValue = config.Trainer.Steps;
                if (p.Validation is not null || p.Message is not null) console.MarkupLine(Markup.Escape(Line(p)));
                else task.Description = Markup.Escape(Line(p));
                task.Value = p.Step;
            }), cancel))
            : Trainer.Run(config, Terminal.Report<TrainProgress>(p => output.WriteLine(Line(p))), cancel);
        if (result.NothingLeft)
        {
            output.WriteLine($"distill train: {config.Trainer.Out} had already finished its {result.Steps} steps; nothing left to do (the student is in {result.ModelDirectory})");
            return 0;
        }
        output.WriteLine(LossPlots.TryWrite(config.Trainer.Out));
        output.WriteLine($"distill train: {result.Steps} steps, final loss {Format(result.FinalLoss)}" +
            (result.SkippedSteps > 0 ? $", {result.SkippedSteps} skipped" : "") + $"; student saved to {result.ModelDirectory}");
        return 0;
    }

    private static string Line(TrainProgress p)
    {
        if (p.Message is not null) return p.Message;
        if (p.Validation is { } v)
            return $"step {p.Step}/{p.Steps} validation: loss {Format(v.Loss)} kd {Format(v.Kd)} sft {Format(v.Sft)} " +
                   $"acc {Format(v.Accuracy)}" + (v.Top1Agreement is { } a ? $" top1 {Format(a)}" : "") +
                   (v.OwnReverseKl is { } r ? $" own-answer rkl {Format(r)}" : "") + (v.AnswerAccuracy is { } c ? $" answers {Format(c)}" : "");
        return $"step {p.Step}/{p.Steps} loss {Format(p.Loss)} kd {Format(p.Kd)} sft {Format(p.Sft)} " +
               (p.Feature is { } f ? $"feature {Format(f)} " : "") +
               $"lr {p.Lr.ToString("0.###e+0", CultureInfo.InvariantCulture)} tok/s {p.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture)} " +
               $"|g| {Format(p.GradNorm)}";
    }

    private static string Format(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
