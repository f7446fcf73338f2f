using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Whether the PyTorch peer computes what Distill computes: a tiny Llama (vocab 101, hidden 32, 2 layers, GQA 4/2)
/// saved as a Hugging Face folder, four examples of 24 tokens (the second half supervised) with K = 5 synthetic teacher
/// rows, in fp32. Per objective (SFT; fwd_kl + 0.4·SFT) both sides report the total, KD and CE losses on the saved
/// weights, take one optimizer step (AdamW at lr 1e-2, clipping at 1) and report the total again; Distill's side runs
/// <see cref="GradientAccumulator"/> and <see cref="TrainThroughput"/>'s step, the peer its own step. Agreement to
/// 1e-4 (1e-3 after the step, whose AdamW update divides by the gradient's magnitude) means the two train the same
/// objective, so their step times compare like for like.
/// </summary>
internal static class PeerLossCheck
{
    // Examples = TrainThroughput's micro-batch: its step trains the source's first Batch examples.
    private const int Examples = TrainThroughput.Batch, SeqLen = 24, TopK = 5;
    private const double Lr = 1e-2, Tolerance = 1e-4, ToleranceAfterStep = 1e-3;

    private const string TinyConfig = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 101,
         "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
         "rope_theta": 10000.0, "max_position_embeddings": 64, "tie_word_embeddings": false}
        """;

    public static (string Name, KdObjective Objective)[] Objectives { get; } =
    [
        ("sft", KdObjective.SftOnly),
        ("kd", new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4)),
    ];

    public static JsonObject Run()
    {
        var config = LlamaConfig.Parse(TinyConfig, "peer check config");
        var folder = Directory.CreateTempSubdirectory("distill-bench-peer-check-");
        using var source = new SyntheticTrainingSource(Examples, SeqLen, SeqLen / 2, config.VocabSize, TopK, withTeacher: true, seed: 11);
        try
        {
            manual_seed(11);
            using (var model = new LlamaForCausalLM(config, CPU, ScalarType.Float32)) HfModelFolder.Save(model, folder.FullName);
            WriteBatch(source, Path.Combine(folder.FullName, "batch.json"));
            var peer = PeerProcess.RunJson("check", folder.FullName);
            var result = new JsonObject
            {
                ["what"] = "tiny Llama (vocab 101, hidden 32, 2 layers), 4 × 24 tokens, K = 5, fp32: losses on the same weights, and after one AdamW step (lr 1e-2)",
                ["tolerance"] = Tolerance, ["tolerance_after_step"] = ToleranceAfterStep,
            };
            bool agree = true;
            foreach (var (name, objective) in Objectives)
            {
                var (before, after) = Distill(folder.FullName, source, objective);
                var theirs = peer[name]!;
                var entry = new JsonObject();
                foreach (var (term, ours) in new[] { ("total", before.Loss), ("kd", before.Kd), ("sft", before.Sft), ("total_after_step", after) })
                {
                    double difference = Math.Abs(ours - (double)theirs[term]!);
                    agree &= difference <= (term == "total_after_step" ? ToleranceAfterStep : Tolerance) * Math.Max(1, Math.Abs(ours));
                    entry[term] = new JsonObject { ["distill"] = ours, ["peer"] = (double)theirs[term]!, ["abs_difference"] = difference };
                }
                result[name] = entry;
            }
            result["agree"] = agree;
            return result;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    // The losses on the saved weights, then the total after one step of the bench's step builder.
    private static ((double Loss, double Kd, double Sft) Before, double After) Distill(string folder, SyntheticTrainingSource source, KdObjective objective)
    {
        using var model = new TrainingModel(HfModelFolder.Load(folder, CPU, ScalarType.Float32), ScalarType.Float32);
        model.Compute.train();
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: Lr));
        var indices = Enumerable.Range(0, Examples).Select(i => (long)i).ToArray();
        var chunk = new TrainerOptions().ChunkSize;
        var teacher = objective.KdWeight > 0 ? source.Teacher : null;
        (double, double, double) Loss()
        {
            using var scope = NewDisposeScope();
            var (loss, kd, sft, _) = GradientAccumulator.Accumulate(model.Compute, source, indices, Examples, objective, chunk, teacher);
            model.ZeroGrad();
            return (loss, kd, sft);
        }
        var before = Loss();
        TrainThroughput.Step(model, optimizer, source, objective, chunk);
        return (before, Loss().Item1);
    }

    // input_ids and loss_mask [B, T], and the teacher's rows [R, K] in the order of MicroBatch's supervised rows.
    private static void WriteBatch(SyntheticTrainingSource source, string path)
    {
        using var scope = NewDisposeScope();
        var indices = Enumerable.Range(0, Examples).Select(i => (long)i).ToArray();
        var examples = indices.Select(source.Example).ToArray();
        var signal = source.Signal(MicroBatch.Pack(examples, CPU, indices));
        var ids = signal.TopkIds!.to_type(ScalarType.Int64);
        var logits = signal.TopkLogits!.to_type(ScalarType.Float32);
        var batch = new
        {
            input_ids = examples.Select(e => e.InputIds).ToArray(),
            loss_mask = examples.Select(e => e.LossMask.Select(m => (int)m).ToArray()).ToArray(),
            teacher_ids = Rows(ids.data<long>().ToArray(), TopK),
            teacher_logits = Rows(logits.data<float>().ToArray(), TopK),
            objectives = Objectives.Select(o => o.Name).ToArray(),
            lr = Lr,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(batch));
    }

    private static T[][] Rows<T>(T[] flat, int width) => flat.Chunk(width).ToArray();
}
