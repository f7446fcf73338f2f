using System.Text.Json.Nodes;
using Distill.Generation;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Decode tokens/s of <see cref="Sampler"/> on the ~45M Llama of <see cref="ForwardThroughput"/> at batch 1 and 16
/// (left-padded prompts of 17–32 tokens, 64 new tokens, plain sampling at temperature 1, no stop ids so every row runs
/// to the limit), in fp32 and bf16. Decoding reads every matmul weight once per step whatever the batch, so the
/// weight bytes read per second are set against the memory bandwidth measured in the same run: a fraction near 1 at
/// batch 1 means the step is memory-bound and as fast as the machine allows; batch 16 shares each read among 16 rows.
/// The prompt pass is timed apart (a run with one new token) and subtracted.
/// </summary>
internal static class DecodeThroughput
{
    private const int NewTokens = 64;
    private const int LongestPrompt = 32;

    public static JsonNode Run(JsonObject peak)
    {
        double bandwidth = MemoryBandwidth.Measure();
        var result = new JsonObject
        {
            ["memory_bandwidth_bytes_per_s"] = bandwidth,
            ["new_tokens"] = NewTokens,
            ["prompt_tokens"] = "17-32, left-padded",
            ["sampling"] = "temperature 1, top_k 0, top_p 1",
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        };
        foreach (var (name, dtype) in new[] { ("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16) })
        {
            var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
            using var model = new LlamaForCausalLM(config, CPU, dtype);
            model.eval();
            // Every matmul weight is read once per step; the embedding only gathers B rows, the norms are negligible.
            long weightBytes = model.named_parameters()
                .Where(p => p.name != "model.embed_tokens.weight" && !p.name.EndsWith("norm.weight", StringComparison.Ordinal))
                .Sum(p => p.parameter.numel() * p.parameter.ElementSize);
            var entry = new JsonObject { ["parameters"] = model.ParameterCount(), ["weight_bytes_per_step"] = weightBytes };
            foreach (var batch in new[] { 1, 16 })
            {
                var prompts = Prompts(batch, config.VocabSize);
                double Time(int newTokens)
                {
                    var options = new SamplingOptions { Temperature = 1, MaxNewTokens = newTokens };
                    return Stopwatches.MedianSeconds(() => Sampler.Sample(model, prompts, options, new SamplingRandom(1)), warmup: 1, runs: 3);
                }
                double prefill = Time(1);
                double decode = Math.Max(Time(NewTokens) - prefill, 1e-9);
                const int steps = NewTokens - 1;
                double forwardOnly = ForwardOnlySecondsPerStep(model, batch, steps);
                double weightBytesPerSecond = steps * (double)weightBytes / decode;
                entry[$"batch_{batch}"] = new JsonObject
                {
                    ["tokens_per_s"] = batch * steps / decode,
                    ["ms_per_step"] = 1000 * decode / steps,
                    ["prompt_pass_ms"] = 1000 * prefill,
                    ["bare_forward_ms_per_step"] = 1000 * forwardOnly,
                    ["weight_bytes_per_s"] = weightBytesPerSecond,
                    ["fraction_of_memory_bandwidth"] = weightBytesPerSecond / bandwidth,
                };
            }
            result[name] = entry;
        }
        return result;
    }

    /// <summary>
    /// The model's own share of a step: cached [B, 1] forward passes and the last-position logits, with no mask, no
    /// sampling and no host sync, after an unpadded prompt of the longest length. The sampler's overhead is the rest.
    /// </summary>
    private static double ForwardOnlySecondsPerStep(LlamaForCausalLM model, int batch, int steps)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompt = randint(0, model.Config.VocabSize, [batch, LongestPrompt], dtype: ScalarType.Int64);
        var next = randint(0, model.Config.VocabSize, [batch, 1], dtype: ScalarType.Int64);
        var times = new double[4];
        for (var run = 0; run < times.Length; run++) // the first is a warm-up
        {
            using var cache = new KvCache(model.Config.NumHiddenLayers);
            using (NewDisposeScope()) model.Forward(new CausalLMInput { InputIds = prompt, ComputeLogits = false, Cache = cache });
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < steps; i++)
            {
                using var step = NewDisposeScope();
                var last = model.Forward(new CausalLMInput { InputIds = next, ComputeLogits = false, Cache = cache }).LastHiddenState.select(1, -1);
                nn.functional.linear(last, model.LmHeadWeight);
            }
            times[run] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds / steps;
        }
        return times.Skip(1).Order().ElementAt(1);
    }

    /// <summary>Prompts of 17–32 random tokens (batch 1: the longest), fixed by a seed.</summary>
    private static int[][] Prompts(int batch, int vocabulary)
    {
        var random = new Random(5);
        return Enumerable.Range(0, batch)
            .Select(b => Enumerable.Range(0, batch == 1 ? LongestPrompt : LongestPrompt - (b * 15 / Math.Max(batch - 1, 1)))
                .Select(_ => random.Next(vocabulary)).ToArray())
            .ToArray();
    }
}
