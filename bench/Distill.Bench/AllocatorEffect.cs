using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// What <see cref="NativeHeap.KeepFreedMemory"/> buys: the same steps of <see cref="ForwardThroughput"/>'s ~45M Llama
/// (batch 4 × 512 tokens, logits over 32000) timed with the C library's default heap, then after the call, in one
/// process. It must run before anything else tunes the heap, so <see cref="Program"/> runs it first.
/// </summary>
internal static class AllocatorEffect
{
    private const int Batch = 4, SeqLen = 512;

    public static JsonNode Run()
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        var steps = new (string Name, ScalarType DType, bool Backward)[]
        {
            ("fp32_forward", ScalarType.Float32, false), ("bf16_forward", ScalarType.BFloat16, false),
            ("fp32_forward_backward", ScalarType.Float32, true), ("bf16_forward_backward", ScalarType.BFloat16, true),
        };
        var models = steps.Select(s => s.DType).Distinct().ToDictionary(d => d, d => new LlamaForCausalLM(config, CPU, d));
        var ids = randint(0, config.VocabSize, [Batch, SeqLen], dtype: ScalarType.Int64);
        try
        {
            var before = steps.Select(s => Time(models[s.DType], ids, s.Backward)).ToArray();
            bool kept = NativeHeap.KeepFreedMemory();
            var after = steps.Select(s => Time(models[s.DType], ids, s.Backward)).ToArray();
            var result = new JsonObject { ["batch"] = Batch, ["seq_len"] = SeqLen, ["heap_kept"] = kept };
            for (int i = 0; i < steps.Length; i++)
                result[steps[i].Name] = new JsonObject
                {
                    ["default_heap_s"] = before[i],
                    ["kept_heap_s"] = after[i],
                    ["speedup"] = before[i] / after[i],
                };
            return result;
        }
        finally
        {
            foreach (var model in models.Values) model.Dispose();
            ids.Dispose();
        }
    }

    private static double Time(LlamaForCausalLM model, Tensor ids, bool backward) => Stopwatches.MedianSeconds(() =>
    {
        using var scope = NewDisposeScope();
        if (!backward)
        {
            using var noGrad = no_grad();
            model.Forward(new CausalLMInput { InputIds = ids });
            return;
        }
        var logits = model.Forward(new CausalLMInput { InputIds = ids }).Logits!; // [B, T, V]
        var loss = nn.functional.cross_entropy(logits.narrow(1, 0, SeqLen - 1).reshape(-1, logits.shape[2]).to(ScalarType.Float32),
            ids.narrow(1, 1, SeqLen - 1).reshape(-1));
        loss.backward();
        model.zero_grad();
    }, warmup: 1, runs: 3);
}
