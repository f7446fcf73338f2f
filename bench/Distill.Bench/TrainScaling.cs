using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// How one forward + KD+SFT loss + backward grows with the tokens of a micro-batch and with the vocabulary: a Llama
/// smaller than the ~45M bench model (hidden 256, 2 layers, so the 15 cells finish in minutes on two shared cores; the
/// shape of the curves, not the absolute time, is the point) at vocabularies 32000, 128256 and 151936, micro-batches
/// of 1…16 sequences of 512 tokens (512…8192 tokens, so attention cost per token stays fixed), the second half of each
/// sequence supervised, fwd_kl over K = 100 (kd 1, sft 0.4), the trainer's default chunk size, fp32. Per cell: the
/// step's wall time and process CPU time (the CPU time is the steadier one on a loaded machine; median of
/// <see cref="Repeats"/> after one warm-up pass of one sequence) and the rise of resident memory
/// over the size before the pass (VmHWM, as <see cref="TrainMemory"/>; it includes the embedding's and output
/// projection's gradients, which the pass allocates). With the chunked loss the step time grows linearly in tokens and
/// the memory rise stays far below the [tokens × vocab] fp32 logits.
/// </summary>
internal static class TrainScaling
{
    private const int SeqLen = 512, TopK = 100, Repeats = 1;
    private const double MiB = 1024.0 * 1024.0;
    private static readonly int[] Tokens = [512, 1024, 2048, 4096, 8192];
    private static readonly int[] Vocabularies = [32000, 128256, 151936];
    // A safety net for a machine far slower than the project's: at load average ~20 on two cores, 14 cells took 34 minutes with 2 repeats.
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(40);

    internal const string ScalingConfig = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
         "hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
         "rope_theta": 10000.0, "max_position_embeddings": 2048, "tie_word_embeddings": false}
        """;

    public static JsonNode Run(JsonObject peak)
    {
        var trainer = new TrainerOptions();
        var objective = new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);
        var started = Stopwatch.GetTimestamp();
        var load = TrainThroughput.LoadAverage();
        var rows = new JsonArray();
        var models = Vocabularies.ToDictionary(v => v, v =>
        {
            var config = LlamaConfig.Parse(ScalingConfig.Replace("\"vocab_size\": 32000", $"\"vocab_size\": {v}", StringComparison.Ordinal), "scaling config");
            var model = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
            model.train();
            return model;
        });
        try
        {
            // Tokens outermost, so a spent budget drops the largest micro-batches of every vocabulary, not a whole vocabulary.
            foreach (var tokens in Tokens)
                foreach (var vocab in Vocabularies)
                    rows.Add(Stopwatch.GetElapsedTime(started) > Budget
                        ? new JsonObject { ["vocab"] = vocab, ["tokens"] = tokens, ["skipped"] = $"the table's {Budget.TotalMinutes}-minute budget was spent" }
                        : Cell(models[vocab], vocab, tokens, objective, trainer.ChunkRows(vocab)));
        }
        finally
        {
            foreach (var model in models.Values) model.Dispose();
        }
        return new JsonObject
        {
            ["model"] = "hidden 256, intermediate 688, 2 layers, 4 heads (2 kv)", ["seq_len"] = SeqLen, ["top_k"] = TopK,
            ["chunk_size"] = trainer.ChunkSize, ["chunk_elements"] = trainer.ChunkElements, ["dtype"] = "fp32", ["objective"] = "fwd_kl, kd_weight 1, sft_weight 0.4",
            ["repeats"] = $"median of {Repeats} after one warm-up pass of one sequence per cell",
            ["cells"] = rows,
            ["minutes"] = Stopwatch.GetElapsedTime(started).TotalMinutes,
            ["load_average_before"] = load,
            ["load_average_after"] = TrainThroughput.LoadAverage(),
        };
    }

    private static JsonObject Cell(LlamaForCausalLM model, int vocab, int tokens, KdObjective objective, int chunk)
    {
        int sequences = tokens / SeqLen;
        using var source = new SyntheticTrainingSource(sequences, SeqLen, SeqLen / 2, vocab, TopK, withTeacher: true, seed: 4);
        TrainMemory.Pass(model, source, objective, chunk, examples: 1);
        model.zero_grad();
        long baseline = PeakMemory.Available ? PeakMemory.Reset() : 0;
        var seconds = new double[Repeats];
        var cpuSeconds = new double[Repeats];
        for (int r = 0; r < Repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            TrainMemory.Pass(model, source, objective, chunk, sequences);
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            cpuSeconds[r] = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
            model.zero_grad();
        }
        double rise = PeakMemory.Available ? PeakMemory.Peak() - baseline : double.NaN;
        long supervised = (long)sequences * (SeqLen - SeqLen / 2);
        var median = Spread.Of(seconds).Median;
        var cpu = Spread.Of(cpuSeconds).Median;
        return new JsonObject
        {
            ["vocab"] = vocab, ["tokens"] = tokens, ["supervised_rows"] = supervised,
            ["step_s"] = median, ["us_per_token"] = median / tokens * 1e6,
            ["step_cpu_s"] = cpu, ["cpu_us_per_token"] = cpu / tokens * 1e6,
            ["peak_rise_mib"] = rise / MiB,
            ["full_fp32_logits_mib"] = supervised * (double)vocab * 4 / MiB,
        };
    }
}
