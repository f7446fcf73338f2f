using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Optimizer-step time of the ~45M Llama of <see cref="ForwardThroughput"/> on micro-batches of 4 × 512 tokens (the
/// second half of each example supervised), for plain SFT and for two KD+SFT objectives against synthetic teacher rows:
/// forward KL over K = 100 (kd 1, sft 0.4) and tail-aware forward KL over K = 20 (kd 1, sft 0.4), in fp32 and in bf16
/// (bf16 compute copy, fp32 masters, as the trainer runs it). Targets: KD+SFT / SFT ≤ 1.03 for K = 100 and ≤ 1.05 for
/// the tail-aware K = 20, in both dtypes.
/// </summary>
internal static class TrainThroughput
{
    internal const int Batch = 4, SeqLen = 512;
    private const string RoundsVariable = "DISTILL_BENCH_TRAIN_ROUNDS";

    private const string Method =
        "Trainer.TrainingLoop.Step is internal, so the step is rebuilt from the trainer's public pieces in the same order: " +
        "TrainingModel.ZeroGrad, GradientAccumulator.Accumulate (forward with ComputeLogits=false, ChunkedLoss.Backward, " +
        "hidden.backward), CopyGradsToMasters, clip_grad_norm_(1.0), AdamW (Trainer.CreateOptimizer).step, CopyMastersToCompute. " +
        "One warm-up step per objective (AdamW's state, the allocator), then rounds of one step of each objective, the order " +
        "rotated every round so none always runs first, and the dtype's matmul peak measured again before each round (fraction_of_round_matmul_peak: " +
        "each step against its own round's peak, median and IQR); each round gives one KD/SFT ratio per KD objective, of wall time and " +
        "of process CPU time (all threads, read from the OS around the step). Reported: the median ratio over the rounds and " +
        "its interquartile range. Load from other processes stretches wall time but hardly CPU time, and it shifts both " +
        "steps of a round alike, so the median of per-round ratios is the figure to compare with the targets.";

    private sealed record Variant(string Name, KdObjective Objective, int TopK, double Target);

    private static readonly Variant[] Variants =
    [
        new("sft", KdObjective.SftOnly, 0, double.NaN),
        new("kd_fwd_kl_k100", new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4), 100, 1.03),
        new("kd_tail_fwd_kl_k20", new KdObjective(KdLossKind.TailFwdKl, KdWeight: 1.0, SftWeight: 0.4), 20, 1.05),
    ];

    public static JsonNode Run(JsonObject peak)
    {
        var chunk = new TrainerOptions().ChunkSize;
        var rounds = int.TryParse(Environment.GetEnvironmentVariable(RoundsVariable), out var r) && r > 0 ? r : 12;
        var result = new JsonObject
        {
            ["method"] = Method, ["micro_batch"] = Batch, ["seq_len"] = SeqLen, ["chunk_size"] = chunk,
            ["rounds"] = rounds, ["rounds_set_by"] = RoundsVariable,
            ["steps_timed_per_dtype"] = rounds * Variants.Length,
            ["supervised_fraction"] = (SeqLen - SeqLen / 2) / (double)SeqLen,
            ["flops_accounting"] = "3 × (ForwardFlopsPerToken without the output projection) per input token + 3 × 2·V·H per supervised row (only those are projected)",
        };
        foreach (var (name, dtype, peakKey) in new[] { ("fp32", ScalarType.Float32, "fp32_flops"), ("bf16", ScalarType.BFloat16, "bf16_flops") })
            result[name] = Measure(dtype, (double)peak[peakKey]!, chunk, rounds);
        result["load_average_after"] = LoadAverage();
        return result;
    }

    private static JsonObject Measure(ScalarType dtype, double peakFlops, int chunk, int rounds)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        using var model = new TrainingModel(new LlamaForCausalLM(config, CPU, ScalarType.Float32), dtype);
        model.Compute.train();
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: 1e-6));
        var sources = Variants.Select(v => new SyntheticTrainingSource(Batch, SeqLen, SeqLen / 2, config.VocabSize,
            Math.Max(v.TopK, 1), withTeacher: v.TopK > 0, seed: 1)).ToArray();
        try
        {
            var wall = Variants.Select(_ => new double[rounds]).ToArray();
            var cpu = Variants.Select(_ => new double[rounds]).ToArray();
            var roundPeak = new double[rounds];
            for (int v = 0; v < Variants.Length; v++) Time(model, optimizer, sources[v], Variants[v].Objective, chunk);
            for (int round = 0; round < rounds; round++)
            {
                // The peak again beside this round's steps: on a shared machine the load moves within a run, and a peak
                // measured minutes earlier makes the fraction say more about the load than about the step.
                roundPeak[round] = MatmulPeak.Measure(dtype, runs: 3);
                for (int i = 0; i < Variants.Length; i++)
                {
                    int v = (round + i) % Variants.Length;
                    (wall[v][round], cpu[v][round]) = Time(model, optimizer, sources[v], Variants[v].Objective, chunk);
                }
            }
            return Report(config, model, peakFlops, roundPeak, wall, cpu);
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    private static JsonObject Report(LlamaConfig config, TrainingModel model, double peakFlops, double[] roundPeak, double[][] wall, double[][] cpu)
    {
        const double tokens = Batch * SeqLen, supervisedRows = Batch * (SeqLen - SeqLen / 2);
        double projection = 2.0 * config.VocabSize * config.HiddenSize;
        double flopsPerToken = 3 * (ForwardThroughput.ForwardFlopsPerToken(config, model.Compute, SeqLen) - projection
            + projection * supervisedRows / tokens);
        var result = new JsonObject
        {
            ["mixed_precision_masters"] = model.IsMixed, ["train_flops_per_token"] = flopsPerToken,
            ["round_matmul_peak_flops"] = Spread.Of(roundPeak).ToJson(),
        };
        for (int v = 0; v < Variants.Length; v++)
        {
            var wallSpread = Spread.Of(wall[v]);
            var entry = new JsonObject
            {
                ["step_wall_s"] = wallSpread.ToJson(),
                ["step_cpu_s"] = Spread.Of(cpu[v]).ToJson(),
                ["tokens_per_s_at_median"] = tokens / wallSpread.Median,
                ["fraction_of_matmul_peak_at_median"] = tokens / wallSpread.Median * flopsPerToken / peakFlops,
                ["fraction_of_matmul_peak_fastest"] = tokens / wall[v].Min() * flopsPerToken / peakFlops,
                ["fraction_of_round_matmul_peak"] = Spread.Of(wall[v].Zip(roundPeak, (w, p) => tokens / w * flopsPerToken / p)).ToJson(),
            };
            if (v > 0)
            {
                var wallRatio = Spread.Of(wall[v].Zip(wall[0], (kd, sft) => kd / sft));
                var cpuRatio = Spread.Of(cpu[v].Zip(cpu[0], (kd, sft) => kd / sft));
                entry["over_sft_wall"] = wallRatio.ToJson();
                entry["over_sft_cpu"] = cpuRatio.ToJson();
                entry["target"] = Variants[v].Target;
                entry["meets_target_wall_median"] = wallRatio.Median <= Variants[v].Target;
                entry["meets_target_cpu_median"] = cpuRatio.Median <= Variants[v].Target;
            }
            result[Variants[v].Name] = entry;
        }
        return result;
    }

    internal static (double Wall, double Cpu) Time(TrainingModel model, optim.Optimizer optimizer, SyntheticTrainingSource source, KdObjective objective, int chunk)
    {
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        Step(model, optimizer, source, objective, chunk);
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (wall, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    internal static void Step(TrainingModel model, optim.Optimizer optimizer, SyntheticTrainingSource source, KdObjective objective, int chunk)
    {
        using var scope = NewDisposeScope();
        model.ZeroGrad();
        GradientAccumulator.Accumulate(model.Compute, source, Enumerable.Range(0, Batch).Select(i => (long)i).ToArray(), Batch, objective, chunk, source.Teacher);
        model.CopyGradsToMasters();
        nn.utils.clip_grad_norm_(model.Master.parameters(), 1.0);
        optimizer.step();
        model.CopyMastersToCompute();
        model.ZeroGrad();
    }

    /// <summary>The 1-, 5- and 15-minute load averages from /proc/loadavg, or null off Linux.</summary>
    internal static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
}
