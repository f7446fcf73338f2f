using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Where one training step of <see cref="TrainThroughput"/> (the ~45M Llama, 4 × 512 tokens, half supervised) spends its
/// time, in fp32 and in bf16: the forward pass by op kind (each op timed alone on the step's shapes, forward and
/// forward + backward, times the number of calls in one step; both attention paths, fp32 runs the fused one and bf16 the
/// explicit one), then the step's real pieces in order (forward, chunked loss, backward through the layers, the
/// fp32-master ↔ bf16 copies, clipping, AdamW). One libtorch thread, timed in the thread's CPU time (<see cref="ThreadCpu"/>),
/// so the figures count work and hardly move with other processes' load. Milliseconds per step, medians.
/// </summary>
internal static class TrainPieces
{
    private const int Batch = 4, SeqLen = 512, Runs = 5;

    public static JsonNode Run(JsonObject peak)
    {
        var threads = get_num_threads();
        set_num_threads(1);
        try { return Measure(); }
        finally { set_num_threads(threads); }
    }

    private static JsonNode Measure()
    {
        var result = new JsonObject
        {
            ["method"] = "ops: each op alone on the step's shapes with inputs and weights requiring grad, median of " + Runs +
                " runs after one warm-up, times the calls in one step of the bench model; 'fwd_bwd' includes the forward. " +
                "step: the pieces of TrainThroughput's step in order, each median of " + Runs + " steps.",
            ["load_average_before"] = TrainThroughput.LoadAverage(),
        };
        foreach (var (name, dtype) in new[] { ("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16) })
        {
            var step = StepPieces(dtype, out var stepFlops);
            var peak = OneThreadPeak(dtype);
            var totals = new JsonObject();
            foreach (var objective in new[] { "sft", "kd_fwd_kl_k100", "kd_tail_fwd_kl_k20" })
            {
                // One step of this objective: every piece once, its own chunked loss.
                var ms = step.Where(p => !p.Key.StartsWith("chunked_loss_", StringComparison.Ordinal) && p.Key != "unit")
                    .Sum(p => (double)p.Value!) + (double)step["chunked_loss_" + objective]!;
                totals[objective] = new JsonObject { ["step_ms"] = ms, ["fraction_of_one_thread_matmul_peak"] = stepFlops / (ms / 1000) / peak };
            }
            totals["kd_fwd_kl_k100_over_sft"] = (double)totals["kd_fwd_kl_k100"]!["step_ms"]! / (double)totals["sft"]!["step_ms"]!;
            totals["kd_tail_fwd_kl_k20_over_sft"] = (double)totals["kd_tail_fwd_kl_k20"]!["step_ms"]! / (double)totals["sft"]!["step_ms"]!;
            result[name] = new JsonObject
            {
                ["one_thread_matmul_peak_flops"] = peak, ["ops"] = Ops(dtype), ["loss_paths"] = LossPaths(dtype), ["step"] = step, ["step_totals"] = totals,
            };
        }
        result["load_average_after"] = TrainThroughput.LoadAverage();
        return result;
    }

    private static JsonObject Ops(ScalarType dtype)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        int h = config.HiddenSize, heads = config.NumAttentionHeads, kv = config.KeyValueHeads, d = config.HeadDimension;
        int inter = config.IntermediateSize, layers = config.NumHiddenLayers;
        using var scope = NewDisposeScope();
        Tensor Leaf(params long[] shape) => (randn(shape) * 0.1).to_type(dtype).requires_grad_(true);
        var x = Leaf(Batch, SeqLen, h);
        var weights = new (string Name, Tensor W)[]
        {
            ("q", Leaf(heads * d, h)), ("k", Leaf(kv * d, h)), ("v", Leaf(kv * d, h)), ("o", Leaf(h, heads * d)),
            ("gate", Leaf(inter, h)), ("up", Leaf(inter, h)),
        };
        var down = Leaf(h, inter);
        var xInter = Leaf(Batch, SeqLen, inter);
        var norm = new LlamaRMSNorm(h, config.RmsNormEps, CPU, dtype);
        var rotary = new LlamaRotaryEmbedding(config, CPU);
        var positions = arange(SeqLen, dtype: ScalarType.Int64).unsqueeze(0).expand(Batch, SeqLen);
        var (cos, sin) = rotary.forward(positions, dtype);
        var qFlat = Leaf(Batch, SeqLen, heads * d);
        var kFlat = Leaf(Batch, SeqLen, kv * d);
        var vFlat = Leaf(Batch, SeqLen, kv * d);
        Tensor Q() => qFlat.view(Batch, SeqLen, heads, d).transpose(1, 2);            // [B, H, T, D] as the layer has it
        Tensor K() => kFlat.view(Batch, SeqLen, kv, d).transpose(1, 2);               // [B, KV, T, D]
        Tensor V() => vFlat.view(Batch, SeqLen, kv, d).transpose(1, 2);
        using var attention = new LlamaAttention(config, CPU, dtype);
        var gate = Leaf(Batch, SeqLen, inter);
        var up = Leaf(Batch, SeqLen, inter);
        var ops = new (string Name, int Calls, Func<Tensor[]> Op)[]
        {
            ("matmul_qkvo_gate_up", layers, () => weights.Select(w => nn.functional.linear(x, w.W)).ToArray()),
            ("matmul_down", layers, () => [nn.functional.linear(xInter, down)]),
            ("rmsnorm", 2 * layers + 1, () => [norm.forward(x)]),
            ("rope_q_k", layers, () => [LlamaRotaryEmbedding.Apply(Q(), cos, sin), LlamaRotaryEmbedding.Apply(K(), cos, sin)]),
            ("attention_fused_sdpa", layers, () => [nn.functional.scaled_dot_product_attention(Q(), K().repeat_interleave(heads / kv, dim: 1),
                V().repeat_interleave(heads / kv, dim: 1), null, 0.0, is_casual: true)]),
            ("attention_explicit", layers, () => [attention.Explicit(Q(), K(), V(), null, 0.0)]),
            ("silu_mul", layers, () => [nn.functional.silu(gate) * up]),
            ("residual_add", 2 * layers, () => [x + x]),
        };
        var result = new JsonObject { ["unit"] = "ms per step (per call × calls)" };
        foreach (var (name, calls, op) in ops)
        {
            var forward = Ms(() => { using var s = NewDisposeScope(); op(); });
            var both = Ms(() =>
            {
                using var s = NewDisposeScope();
                var y = op();
                autograd.backward(y, y.Select(t => ones_like(t)).ToArray());
            });
            result[name] = new JsonObject { ["calls"] = calls, ["fwd_ms"] = forward * calls, ["fwd_bwd_ms"] = both * calls };
        }
        return result;
    }

    // The loss of one chunk (the step's 1024 supervised rows × 32000) and its backward into the logits, without the
    // projection: through autograd (KdLoss.PerToken) and with the written gradient the chunk loop takes (LogitGradient).
    private static JsonObject LossPaths(ScalarType dtype)
    {
        const int rows = Batch * (SeqLen - SeqLen / 2), vocab = 32000;
        using var scope = NewDisposeScope();
        var logits = (randn(rows, vocab) * 2).to_type(dtype).requires_grad_(true);
        var labels = randint(0, vocab, new long[] { rows }, dtype: ScalarType.Int64);
        TeacherSignal Teacher(int k)
        {
            var sorted = (randn(rows, k) * 3).sort(1, descending: true).Values;
            var shifted = sorted - sorted.narrow(1, 0, 1);
            return TeacherSignal.TopK(rand(rows, vocab).topk(k, dim: 1).indexes, shifted, shifted.logsumexp(1) + 0.5);
        }
        var cases = new (string Name, KdObjective Objective, TeacherSignal? Teacher)[]
        {
            ("sft", KdObjective.SftOnly, null),
            ("kd_fwd_kl_k100", new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4), Teacher(100)),
            ("kd_tail_fwd_kl_k20", new KdObjective(KdLossKind.TailFwdKl, KdWeight: 1.0, SftWeight: 0.4), Teacher(20)),
        };
        var result = new JsonObject { ["unit"] = $"ms for one chunk of {rows} × {vocab}, loss and backward into the logits" };
        foreach (var (name, objective, teacher) in cases)
            result[name] = new JsonObject
            {
                ["autograd_ms"] = Ms(() =>
                {
                    using var s = NewDisposeScope();
                    var terms = KdLoss.PerToken(objective, logits, labels, teacher, checkIds: false);
                    LossReduction.Normalised(terms.Total, null, rows).backward();
                }),
                ["written_gradient_ms"] = Ms(() =>
                {
                    using var s = NewDisposeScope();
                    logits.backward(new[] { LogitGradient.PerToken(objective, logits, labels, teacher, null, rows).Gradient });
                }),
            };
        return result;
    }

    // MatmulPeak's 2048² product, timed like the pieces: one thread, thread CPU time.
    private static double OneThreadPeak(ScalarType dtype)
    {
        const int n = 2048;
        using var scope = NewDisposeScope();
        var (a, b) = (randn(n, n).to(dtype), randn(n, n).to(dtype));
        return 2.0 * n * n * n / (Ms(() => { using var inner = NewDisposeScope(); a.matmul(b); }) / 1000);
    }

    private static JsonObject StepPieces(ScalarType dtype, out double stepFlops)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        using var model = new TrainingModel(new LlamaForCausalLM(config, CPU, ScalarType.Float32), dtype);
        model.Compute.train();
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: 1e-6));
        var chunk = new TrainerOptions().ChunkSize;
        var objectives = new (string Name, KdObjective Objective, int TopK)[]
        {
            ("sft", KdObjective.SftOnly, 0),
            ("kd_fwd_kl_k100", new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4), 100),
            ("kd_tail_fwd_kl_k20", new KdObjective(KdLossKind.TailFwdKl, KdWeight: 1.0, SftWeight: 0.4), 20),
        };
        var sources = objectives.Select(o => new SyntheticTrainingSource(Batch, SeqLen, SeqLen / 2, config.VocabSize,
            Math.Max(o.TopK, 1), withTeacher: o.TopK > 0, seed: 1)).ToArray();
        var indices = Enumerable.Range(0, Batch).Select(i => (long)i).ToArray();
        var times = new Dictionary<string, List<double>>();
        void Add(string key, long start) =>
            (times.TryGetValue(key, out var list) ? list : times[key] = []).Add((ThreadCpu.Nanoseconds() - start) / 1e6);
        try
        {
            for (int run = 0; run <= Runs; run++)
            {
                using var scope = NewDisposeScope();
                var t = ThreadCpu.Nanoseconds();
                model.ZeroGrad();
                Add("zero_grad", t);
                var batch = MicroBatch.Build(sources[0], indices, CPU);
                t = ThreadCpu.Nanoseconds();
                var hidden = batch.Hidden(model.Compute);
                Add("forward_to_hidden", t);
                ChunkedLossResult? kept = null;
                for (int o = 0; o < objectives.Length; o++)
                {
                    var signal = sources[o].Teacher?.Signal(MicroBatch.Build(sources[o], indices, CPU));
                    t = ThreadCpu.Nanoseconds();
                    var loss = ChunkedLoss.Backward(hidden, model.Compute.LmHeadWeight, batch.Targets(signal), objectives[o].Objective, chunk,
                        batch.SupervisedTokens);
                    Add("chunked_loss_" + objectives[o].Name, t);
                    kept ??= loss;
                }
                t = ThreadCpu.Nanoseconds();
                hidden.backward(new[] { kept!.HiddenGrad });
                Add("backward_through_layers", t);
                t = ThreadCpu.Nanoseconds();
                model.CopyGradsToMasters();
                Add("copy_grads_to_masters", t);
                t = ThreadCpu.Nanoseconds();
                nn.utils.clip_grad_norm_(model.Master.parameters(), 1.0);
                Add("clip_grad_norm", t);
                t = ThreadCpu.Nanoseconds();
                optimizer.step();
                Add("adamw_step", t);
                t = ThreadCpu.Nanoseconds();
                model.CopyMastersToCompute();
                Add("copy_masters_to_compute", t);
                if (run == 0) times.Clear();                                                // the warm-up step
            }
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
        // TrainThroughput's accounting: 3 × forward, the output projection on the supervised rows only.
        double projection = 2.0 * config.VocabSize * config.HiddenSize, tokens = Batch * SeqLen, rows = Batch * (SeqLen - SeqLen / 2);
        stepFlops = 3 * (ForwardThroughput.ForwardFlopsPerToken(config, model.Compute, SeqLen) * tokens - projection * (tokens - rows));
        var result = new JsonObject { ["unit"] = "ms per step, median of " + Runs };
        foreach (var (key, list) in times) result[key] = Spread.Of(list).Median;
        return result;
    }

    private static double Ms(Action action)
    {
        action();
        var times = new double[Runs];
        for (int i = 0; i < Runs; i++)
        {
            var start = ThreadCpu.Nanoseconds();
            action();
            times[i] = (ThreadCpu.Nanoseconds() - start) / 1e6;
        }
        return Spread.Of(times).Median;
    }
}
