using System.Text.Json.Nodes;
using Distill.LogitCache;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>Tiny students and teachers (vocab 50), pseudo-random examples and logit caches built from a teacher's logits.</summary>
internal static class TrainingTestData
{
    public const int Vocab = 50;

    public static LlamaConfig Config(int hidden = 16, int layers = 2, double initRange = 0.02, int vocab = Vocab) => LlamaConfig.Parse(new JsonObject
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = vocab,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = hidden + 8,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = 2,
        ["num_key_value_heads"] = 1,
        ["rms_norm_eps"] = 1e-5,
        ["max_position_embeddings"] = 64,
        ["initializer_range"] = initRange,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["torch_dtype"] = "float32",
    }.ToJsonString());

    public static LlamaForCausalLM Model(int seed, int hidden = 16, double initRange = 0.02, int vocab = Vocab)
    {
        random.manual_seed(seed);
        return new LlamaForCausalLM(Config(hidden, initRange: initRange, vocab: vocab), CPU, ScalarType.Float32);
    }

    /// <summary>
    /// A teacher whose prediction depends mostly on the current token (a sharp bigram model): embeddings and output
    /// projection scaled up so the residual stream is dominated by the token's embedding. Learnable from a few dozen examples.
    /// </summary>
    public static LlamaForCausalLM BigramTeacher(int seed)
    {
        var model = Model(seed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (name is "model.embed_tokens.weight" or "lm_head.weight") parameter.mul_(15);
        return model;
    }

    /// <summary>Saves a fresh random student as a Hugging Face folder at <paramref name="dir"/>.</summary>
    public static string StudentFolder(string dir, int seed = 11, int vocab = Vocab)
    {
        using var model = Model(seed, vocab: vocab);
        HfModelFolder.Save(model, dir);
        return dir;
    }

    /// <summary>Lengths 4..11, a prompt of 1..3 tokens, then ~70 % of the answer supervised.</summary>
    public static TrainingExample[] Examples(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var length = rng.Next(4, 12);
            var ids = Enumerable.Range(0, length).Select(_ => rng.Next(3, Vocab)).ToArray();
            var prompt = rng.Next(1, 4);
            var mask = Enumerable.Range(0, length).Select(j => (byte)(j >= prompt && rng.NextDouble() < 0.7 ? 1 : 0)).ToArray();
            return new TrainingExample(ids, mask);
        }).ToArray();
    }

    /// <summary>Writes a cache of <paramref name="examples"/> with <paramref name="teacher"/>'s top-K, computed from its full logits.</summary>
    public static string Cache(string dir, IReadOnlyList<TrainingExample> examples, LlamaForCausalLM teacher, int topK, int teacherVocab = Vocab,
        string? dataHash = null)
    {
        var settings = CacheManifest.Create(new TeacherFingerprint("sha256:config", "sha256:weights", teacherVocab), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "",
            new DataSource("train.jsonl", dataHash ?? new string('a', 64)), topK, "f32", 64, examples.Count);
        var writer = LogitCacheWriter.Open(dir, settings, new LogitCacheWriterOptions(ExamplesPerShard: 7));
        foreach (var e in examples) writer.Add(Row(e, teacher, topK));
        writer.Complete();
        return dir;
    }

    private static CacheExample Row(TrainingExample e, LlamaForCausalLM teacher, int topK)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = teacher.Forward(new CausalLMInput { InputIds = tensor(e.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0) }).Logits!;
        var mask = e.LossMask.Select((m, j) => (byte)(j > 0 && m != 0 ? 1 : 0)).ToArray();
        var positions = Enumerable.Range(1, e.InputIds.Length - 1).Where(j => mask[j] == 1).ToArray();
        var ids = new List<int>();
        var values = new List<float>();
        var lse = new List<float>();
        foreach (var j in positions)
        {
            var row = logits[0, j - 1];                                                   // predicts token j
            var shifted = row - row.max();
            var (top, index) = shifted.topk(topK);
            ids.AddRange(index.data<long>().ToArray().Select(i => (int)i));
            var v = top.data<float>().ToArray();
            v[0] = 0f;
            values.AddRange(v);
            lse.Add(shifted.logsumexp(0).item<float>());
        }
        return new CacheExample(e.InputIds, mask, topK, ids.ToArray(), values.ToArray(), lse.ToArray());
    }

    public static TrainConfig Config(string student, string data, string outDir, params string[] overrides) =>
        TrainConfigYaml.Override(TrainConfig.Default with
        {
            Model = new ModelOptions(student),
            Data = new DataOptions(data),
            Trainer = new TrainerOptions(outDir, Steps: 4, GlobalBatch: 4, MicroBatch: 2, ChunkSize: 7),
            Optimizer = new OptimizerOptions(Lr: 1e-2, WarmupSteps: 1),
        }, overrides);
}

/// <summary>Reports synchronously on the training thread (System.Progress posts to the thread pool).</summary>
internal sealed class SyncProgress(Action<TrainProgress> report) : IProgress<TrainProgress>
{
    public void Report(TrainProgress value) => report(value);
}
