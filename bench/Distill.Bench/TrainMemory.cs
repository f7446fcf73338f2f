using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Peak resident memory of one forward + KD+SFT loss + backward of a 4 × 512-token micro-batch (every position after
/// the first supervised, K = 100 teacher rows) on the ~45M Llama, with the loss chunked (256 rows) and unchunked (one
/// chunk of all rows, so the full [rows × vocab] logits and their gradient exist), at vocab 32000 and 128256, and the
/// floor: the same pass in 16-row chunks, whose [chunk × vocab] blocks are negligible, so what remains is what any
/// chunk size must hold (the activations, lm_head's gradient from the first chunk on, the other parameters' gradients).
/// The loss's own share, (chunked − floor) / (unchunked − floor), is the ratio the chunk size controls.
/// Figures are the rise of VmHWM over the resident size just before the pass (model, teacher rows already there); the
/// parameters' gradients are made during the pass, as after the trainer's zero_grad. Run it once as is and once with
/// <c>DISTILL_NATIVE_HEAP=default</c> to compare the heap policies (<c>machine.native_heap_kept</c> says which ran).
/// </summary>
internal static class TrainMemory
{
    private const int Batch = 4, SeqLen = 512, TopK = 100, Chunk = 256, FloorChunk = 16;
    private const double MiB = 1024.0 * 1024.0;

    public static JsonNode Run(JsonObject peak)
    {
        if (!PeakMemory.Available) return new JsonObject { ["skipped"] = "needs Linux /proc/self/clear_refs" };
        var result = new JsonObject
        {
            ["micro_batch"] = Batch, ["seq_len"] = SeqLen, ["top_k"] = TopK, ["chunk_rows"] = Chunk, ["floor_chunk_rows"] = FloorChunk,
            ["objective"] = "fwd_kl, kd_weight 1, sft_weight 0.4",
        };
        foreach (var (name, dtype) in new[] { ("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16) })
        {
            var perVocab = new JsonObject { ["model"] = dtype == ScalarType.Float32 ? "fp32" : "bf16 weights (no fp32 masters)" };
            foreach (var vocab in new[] { 32000, 128256 }) perVocab[$"vocab_{vocab}"] = Measure(vocab, dtype);
            result[name] = perVocab;
        }
        result["load_average_after"] = TrainThroughput.LoadAverage();
        return result;
    }

    private static JsonObject Measure(int vocab, ScalarType dtype)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig.Replace("\"vocab_size\": 32000", $"\"vocab_size\": {vocab}", StringComparison.Ordinal), "bench config");
        using var model = new LlamaForCausalLM(config, CPU, dtype);
        model.train();
        using var source = new SyntheticTrainingSource(Batch, SeqLen, 1, vocab, TopK, withTeacher: true, seed: 2);
        var objective = new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);
        var rows = Enumerable.Range(0, Batch).Sum(i => source.Example(i).SupervisedCount);
        Pass(model, source, objective, Chunk, examples: 1);
        double floor = Rise(model, source, objective, FloorChunk);
        double chunked = Rise(model, source, objective, Chunk);
        double unchunked = Rise(model, source, objective, rows);
        return new JsonObject
        {
            ["parameters"] = model.ParameterCount(),
            ["supervised_rows"] = rows,
            ["floor_peak_rise_mib"] = floor / MiB,
            ["chunked_peak_rise_mib"] = chunked / MiB,
            ["unchunked_peak_rise_mib"] = unchunked / MiB,
            ["chunked_over_unchunked"] = chunked / unchunked,
            ["meets_quarter_target"] = chunked <= 0.25 * unchunked,
            ["floor_over_unchunked"] = floor / unchunked,
            ["loss_share_chunked_over_unchunked"] = (chunked - floor) / (unchunked - floor),
            ["full_logits_mib"] = (double)rows * vocab * (dtype == ScalarType.Float32 ? 4 : 2) / MiB,
        };
    }

    private static double Rise(LlamaForCausalLM model, SyntheticTrainingSource source, KdObjective objective, int chunk)
    {
        model.zero_grad();
        long baseline = PeakMemory.Reset();
        Pass(model, source, objective, chunk, Batch);
        return PeakMemory.Peak() - baseline;
    }

    // The first pass runs on one example only: it allocates the parameters' gradients (and the libraries' one-off
    // buffers) before any measurement, at a quarter of the cost.
    internal static void Pass(LlamaForCausalLM model, SyntheticTrainingSource source, KdObjective objective, int chunk, int examples)
    {
        using var scope = NewDisposeScope();
        GradientAccumulator.Accumulate(model, source, Enumerable.Range(0, examples).Select(i => (long)i).ToArray(), examples, objective, chunk, source.Teacher);
    }
}
