using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Distill's training step beside the PyTorch peer a user might run instead (bench/pytorch/peer.py on Debian's
/// PyTorch 1.13), in one run: the ~45M Llama of <see cref="ForwardThroughput"/>, micro-batches of 4 × 512 tokens (the
/// second half supervised), SFT and fwd_kl over K = 100 + 0.4·SFT, fp32 and bf16 (Distill: bf16 compute with fp32
/// masters; the peer: CPU autocast over fp32 weights). First <see cref="PeerLossCheck"/> shows that both compute the
/// same losses; then rounds of one step of each (side, objective), the order rotated every round, the peer answering
/// one step per request from a long-lived process so neither pays start-up inside the timings. Both run on the same
/// number of threads (<c>DISTILL_BENCH_PEER_THREADS</c>, default 1 as the CLI's; PyTorch's own default is reported).
/// </summary>
internal static class PythonPeer
{
    private const string RoundsVariable = "DISTILL_BENCH_PEER_ROUNDS", ThreadsVariable = "DISTILL_BENCH_PEER_THREADS";

    // Both sides run on the CLI's default thread count (CommonOptions.DefaultThreads, chosen from `bench threads`).
    private const int DefaultThreads = 1;
    private const int Tokens = TrainThroughput.Batch * TrainThroughput.SeqLen;

    private const string Method =
        "Distill's step is TrainThroughput.Step (the trainer's public pieces, as `bench train`); the peer's is peer.py's " +
        "(zero_grad, forward, the loss on the supervised rows only, backward, clip_grad_norm_(1.0), AdamW). One warm-up step " +
        "of each (side, objective), then rounds of one step of each, the order rotated every round. Wall time of each step " +
        "is measured by its own process around the step alone; CPU time is the stepping process's (all its threads). " +
        "`distill_over_peer` is the peer's step time / Distill's per round (> 1: Distill is faster), median and quartiles.";

    private static readonly string[] Sides = ["distill", "peer"];

    public static JsonNode Run(JsonObject peak)
    {
        if (PeerProcess.Unavailable() is { } why)
        {
            Console.Error.WriteLine($"bench peer: skipped: {why}");
            return new JsonObject { ["skipped"] = why };
        }
        var rounds = int.TryParse(Environment.GetEnvironmentVariable(RoundsVariable), out var r) && r > 0 ? r : 6;
        var threads = int.TryParse(Environment.GetEnvironmentVariable(ThreadsVariable), out var t) && t > 0 ? t : DefaultThreads;
        var result = new JsonObject
        {
            ["method"] = Method, ["rounds"] = rounds, ["rounds_set_by"] = RoundsVariable, ["threads"] = threads, ["threads_set_by"] = ThreadsVariable,
            ["micro_batch"] = TrainThroughput.Batch, ["seq_len"] = TrainThroughput.SeqLen, ["top_k"] = 100,
            ["python"] = PeerProcess.Python, ["load_average_before"] = TrainThroughput.LoadAverage(),
            ["loss_check"] = PeerLossCheck.Run(),
        };
        var configFile = Path.GetTempFileName();
        var original = get_num_threads();
        try
        {
            set_num_threads(threads);
            File.WriteAllText(configFile, ForwardThroughput.BenchConfig);
            foreach (var (name, dtype) in new[] { ("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16) })
                result[name] = Measure(name, dtype, configFile, rounds);
        }
        finally
        {
            set_num_threads(original);
            File.Delete(configFile);
        }
        result["load_average_after"] = TrainThroughput.LoadAverage();
        return result;
    }

    private static JsonObject Measure(string name, ScalarType dtype, string configFile, int rounds)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        var chunk = new TrainerOptions().ChunkSize;
        using var model = new TrainingModel(new LlamaForCausalLM(config, CPU, ScalarType.Float32), dtype);
        model.Compute.train();
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: 1e-6));
        var objectives = PeerLossCheck.Objectives;
        var sources = objectives.Select(o => new SyntheticTrainingSource(TrainThroughput.Batch, TrainThroughput.SeqLen, TrainThroughput.SeqLen / 2,
            config.VocabSize, 100, withTeacher: o.Objective.KdWeight > 0, seed: 1)).ToArray();
        var (peer, ready) = PeerProcess.Serve("--dtype", name, "--config", configFile, "--threads", get_num_threads().ToString(CultureInfo.InvariantCulture));
        try
        {
            // [side][objective][round] wall and CPU seconds of one step.
            var wall = Sides.Select(_ => objectives.Select(_ => new double[rounds]).ToArray()).ToArray();
            var cpu = Sides.Select(_ => objectives.Select(_ => new double[rounds]).ToArray()).ToArray();
            (double Wall, double Cpu) Step(int side, int o)
            {
                if (side == 0) return TrainThroughput.Time(model, optimizer, sources[o], objectives[o].Objective, chunk);
                var answer = peer.Request(objectives[o].Name);
                return ((double)answer["wall_s"]!, (double)answer["cpu_s"]!);
            }
            var cells = Sides.SelectMany((_, s) => objectives.Select((_, o) => (Side: s, Objective: o))).ToArray();
            foreach (var (s, o) in cells) Step(s, o);
            for (int round = 0; round < rounds; round++)
                for (int i = 0; i < cells.Length; i++)
                {
                    var (s, o) = cells[(round + i) % cells.Length];
                    (wall[s][o][round], cpu[s][o][round]) = Step(s, o);
                }
            return Report(ready, wall, cpu);
        }
        finally
        {
            peer.Dispose();
            foreach (var source in sources) source.Dispose();
        }
    }

    private static JsonObject Report(JsonNode ready, double[][][] wall, double[][][] cpu)
    {
        var objectives = PeerLossCheck.Objectives;
        var result = new JsonObject
        {
            ["distill_threads"] = get_num_threads(),
            ["peer"] = new JsonObject { ["torch"] = ready["torch"]!.DeepClone(), ["threads"] = ready["threads"]!.DeepClone(), ["default_threads"] = ready["default_threads"]!.DeepClone(),
                ["mkldnn"] = ready["mkldnn"]!.DeepClone(), ["blas"] = ready["blas"]?.DeepClone() },
        };
        for (int o = 0; o < objectives.Length; o++)
        {
            var entry = new JsonObject();
            for (int s = 0; s < Sides.Length; s++)
            {
                var spread = Spread.Of(wall[s][o]);
                entry[Sides[s]] = new JsonObject
                {
                    ["tokens_per_s_at_median"] = Tokens / spread.Median,
                    ["step_wall_s"] = spread.ToJson(),
                    ["step_cpu_s"] = Spread.Of(cpu[s][o]).ToJson(),
                };
            }
            entry["distill_over_peer_wall"] = Spread.Of(wall[1][o].Zip(wall[0][o], (p, d) => p / d)).ToJson();
            entry["distill_over_peer_cpu"] = Spread.Of(cpu[1][o].Zip(cpu[0][o], (p, d) => p / d)).ToJson();
            result[objectives[o].Name] = entry;
        }
        for (int s = 0; s < Sides.Length; s++)
            result[$"{Sides[s]}_kd_over_sft_wall"] = Spread.Of(wall[s][1].Zip(wall[s][0], (kd, sft) => kd / sft)).ToJson();
        return result;
    }
}
