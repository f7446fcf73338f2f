using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// How one forward + KD+SFT loss + backward grows with the tokens of a micro-batch and with the vocabulary: the ~45M
/// Llama's shape (hidden 512, 4 layers) at vocabularies 32000, 128256 and 151936, micro-batches of 1…16 sequences of
/// 512 tokens (512…8192 tokens, so attention cost per token stays fixed), the second half of each sequence supervised,
/// fwd_kl over K = 100 (kd 1, sft 0.4), the trainer's default chunk size, fp32. Per cell: the step time (median of
/// the repeats; 3 up to 1024 tokens, 1 above, and cells past a 12-minute budget skipped, to keep the table within minutes on two shared cores) and the rise of
/// resident memory over the size before the pass (VmHWM, as <see cref="TrainMemory"/>). With the chunked loss the
/// step time grows linearly in tokens and the memory rise stays far below the [tokens × vocab] fp32 logits.
/// </summary>
internal static class TrainScaling
{
    private const int SeqLen = 512, TopK = 100;
    private const double MiB = 1024.0 * 1024.0;
    private static readonly int[] Tokens = [512, 1024, 2048, 4096, 8192];
    private static readonly int[] Vocabularies = [32000, 128256, 151936];
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(12);

    public static JsonNode Run(JsonObject peak)
    {
        var chunk = new TrainerOptions().ChunkSize;
        var objective = new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);
        var started = Stopwatch.GetTimestamp();
        var rows = new JsonArray();
        var models = Vocabularies.ToDictionary(v => v, v =>
        {
            var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig.Replace("\"vocab_size\": 32000", $"\"vocab_size\": {v}", StringComparison.Ordinal), "bench config");
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
                        : Cell(models[vocab], vocab, tokens, objective, chunk));
        }
        finally
        {
            foreach (var model in models.Values) model.Dispose();
        }
        return new JsonObject
        {
            ["seq_len"] = SeqLen, ["top_k"] = TopK, ["chunk_size"] = chunk, ["dtype"] = "fp32",
            ["objective"] = "fwd_kl, kd_weight 1, sft_weight 0.4",
            ["repeats"] = "median of 3 up to 1024 tokens, 1 above (after one warm-up pass of one sequence per cell)",
            ["cells"] = rows,
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
        int repeats = tokens <= 1024 ? 3 : 1;
        var seconds = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            TrainMemory.Pass(model, source, objective, chunk, sequences);
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            model.zero_grad();
        }
        double rise = PeakMemory.Available ? PeakMemory.Peak() - baseline : double.NaN;
        long supervised = (long)sequences * (SeqLen - SeqLen / 2);
        var median = Spread.Of(seconds).Median;
        return new JsonObject
        {
            ["vocab"] = vocab, ["tokens"] = tokens, ["supervised_rows"] = supervised,
            ["step_s"] = median, ["us_per_token"] = median / tokens * 1e6,
            ["peak_rise_mib"] = rise / MiB,
            ["full_fp32_logits_mib"] = supervised * (double)vocab * 4 / MiB,
        };
    }
}
