using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Generation;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Text.Conversations;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Whether more than one libtorch thread helps the ~45M Llama of <see cref="ForwardThroughput"/> (fp32) in the work of
/// each command: <c>train</c> (one optimizer step of KD+SFT, fwd_kl over K = 100, 4 × 512 tokens, as `bench train`),
/// <c>topk</c> and <c>eval</c> (<see cref="TopKTeacher.ComputeBatch"/> on 4 examples of 512 tokens, the second half
/// supervised) and <c>generate</c> / <c>serve</c> (<see cref="Sampler"/>, 32 new tokens after 32-token prompts, batch 1
/// and 16). Rounds of one run at one thread and one at every core, the order swapped every round; per round the ratio
/// of their times (1 thread / n threads: above 1, more threads help), reported as the median and quartiles over the
/// rounds with the load before and after. The commands' default <c>--threads</c> (CommonOptions) is chosen from these.
/// </summary>
internal static class ThreadCount
{
    private const string RoundsVariable = "DISTILL_BENCH_THREADS_ROUNDS";
    private const int TopK = 100, NewTokens = 32, PromptTokens = 32;

    public static JsonNode Run(JsonObject peak)
    {
        int original = get_num_threads(), cores = Environment.ProcessorCount;
        var rounds = int.TryParse(Environment.GetEnvironmentVariable(RoundsVariable), out var r) && r > 0 ? r : 8;
        var result = new JsonObject
        {
            ["threads_compared"] = new JsonArray(1, cores), ["libtorch_default_threads"] = original, ["rounds"] = rounds,
            ["rounds_set_by"] = RoundsVariable, ["dtype"] = "fp32", ["load_average_before"] = TrainThroughput.LoadAverage(),
            ["ratio"] = "time at 1 thread / time at n threads per round (> 1: more threads are faster); cpu_ratio likewise for process CPU time",
        };
        if (cores < 2)
        {
            result["skipped"] = "one core: nothing to compare";
            return result;
        }
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        try
        {
            result["train"] = Train(config, rounds, cores);
            using var model = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
            model.eval();
            var teacher = new TopKTeacher(model, TopK);
            var examples = Examples(config.VocabSize);
            result["topk"] = Compare(() => teacher.ComputeBatch(examples), rounds, cores);
            foreach (var batch in new[] { 1, 16 })
            {
                var prompts = Prompts(batch, config.VocabSize);
                var options = new SamplingOptions { Temperature = 1, MaxNewTokens = NewTokens };
                result[$"decode_batch_{batch}"] = Compare(() => Sampler.Sample(model, prompts, options, new SamplingRandom(1)), rounds, cores);
            }
        }
        finally
        {
            set_num_threads(original);
        }
        result["load_average_after"] = TrainThroughput.LoadAverage();
        return result;
    }

    private static JsonObject Train(LlamaConfig config, int rounds, int cores)
    {
        using var model = new TrainingModel(new LlamaForCausalLM(config, CPU, ScalarType.Float32), ScalarType.Float32);
        model.Compute.train();
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: 1e-6));
        using var source = new SyntheticTrainingSource(TrainThroughput.Batch, TrainThroughput.SeqLen, TrainThroughput.SeqLen / 2,
            config.VocabSize, TopK, withTeacher: true, seed: 1);
        var objective = new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);
        var chunk = new TrainerOptions().ChunkSize;
        return Compare(() => TrainThroughput.Step(model, optimizer, source, objective, chunk), rounds, cores);
    }

    // One warm-up run at each count, then rounds of one run at each, the order swapped every round.
    private static JsonObject Compare(Action work, int rounds, int cores)
    {
        int[] counts = [1, cores];
        var wall = counts.Select(_ => new double[rounds]).ToArray();
        var cpu = counts.Select(_ => new double[rounds]).ToArray();
        foreach (var count in counts) Time(work, count);
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < counts.Length; i++)
            {
                int c = (round + i) % counts.Length;
                (wall[c][round], cpu[c][round]) = Time(work, counts[c]);
            }
        return new JsonObject
        {
            ["wall_s_1_thread"] = Spread.Of(wall[0]).ToJson(),
            [$"wall_s_{cores}_threads"] = Spread.Of(wall[1]).ToJson(),
            ["ratio"] = Spread.Of(wall[0].Zip(wall[1], (one, many) => one / many)).ToJson(),
            ["cpu_ratio"] = Spread.Of(cpu[0].Zip(cpu[1], (one, many) => one / many)).ToJson(),
        };
    }

    private static (double Wall, double Cpu) Time(Action work, int threads)
    {
        set_num_threads(threads);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        using (NewDisposeScope()) work();
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (wall, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    private static TokenizedExample[] Examples(int vocab)
    {
        var random = new Random(3);
        var mask = Enumerable.Range(0, TrainThroughput.SeqLen).Select(j => (byte)(j >= TrainThroughput.SeqLen / 2 ? 1 : 0)).ToArray();
        return Enumerable.Range(0, TrainThroughput.Batch)
            .Select(n => new TokenizedExample(Enumerable.Range(0, TrainThroughput.SeqLen).Select(_ => random.Next(vocab)).ToArray(), mask, "bench", n + 1, false))
            .ToArray();
    }

    private static int[][] Prompts(int batch, int vocab)
    {
        var random = new Random(5);
        return Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, PromptTokens).Select(_ => random.Next(vocab)).ToArray()).ToArray();
    }
}
