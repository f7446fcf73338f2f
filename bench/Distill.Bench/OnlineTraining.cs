using System.Diagnostics;
using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Models;
using Distill.Teachers;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Online distillation against offline KD, on the ~45M Llama of <see cref="ForwardThroughput"/> as student and the same
/// shape as a live teacher (fp32 both), micro-batches of 4 × 256 tokens (second half supervised): the step time of
/// offline top-K KD from (synthetic) cached rows, of online KD over the teacher's full vocabulary (λ = 0), of online KD
/// from the teacher's top-K on the fly, and one fully on-policy step (λ = 1, JSD(0.5), 64 sampled tokens per example)
/// split into generation, teacher and student time.
/// </summary>
internal static class OnlineTraining
{
    private const int Batch = 4, SeqLen = 256, TopK = 100, NewTokens = 64, Runs = 3;

    private const string Method =
        "Each step as the trainer runs it from public pieces: TrainingModel.ZeroGrad, (OnPolicyBatch.Build for λ = 1), " +
        "GradientAccumulator.Accumulate with the teacher (CachedTeacher-like synthetic rows, ModelTeacher full or top-K), " +
        "CopyGradsToMasters, clip, AdamW step. One warm-up round, then the kinds alternate round by round so they see the same load; " +
        "each figure is the median of its runs. The on-policy split comes from the step's own timers (generation, teacher) and the rest (student).";

    public static JsonNode Run(JsonObject peak)
    {
        var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
        using var model = new TrainingModel(new LlamaForCausalLM(config, CPU, ScalarType.Float32), ScalarType.Float32);
        using var teacherModel = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
        using var source = new SyntheticTrainingSource(Batch, SeqLen, SeqLen / 2, config.VocabSize, TopK, withTeacher: true, seed: 3);
        using var full = new ModelTeacher(teacherModel);
        using var topK = new ModelTeacher(teacherModel, TopK);
        using var optimizer = Trainer.CreateOptimizer(model.Master, new OptimizerOptions(Lr: 1e-6));
        var kd = new KdObjective(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4);
        var tailKd = kd with { Kind = KdLossKind.TailFwdKl };
        var jsd = new KdObjective(KdLossKind.Jsd, KdWeight: 1.0, SftWeight: 0.4, Beta: 0.5);
        var onPolicy = new OnPolicyBatch(new OnlineOptions(Lambda: 1, MaxNewTokens: NewTokens), jsd, [], seed: 1, microBatch: Batch);
        long[] indices = Enumerable.Range(0, Batch).Select(i => (long)i).ToArray();
        var chunk = new TrainerOptions().ChunkSize;

        var kinds = new (string Name, Func<(double Seconds, double Generation, double Teacher)> Step)[]
        {
            ("offline_topk_cache", () => Step(model, optimizer, () => ([Part(source, indices, tailKd)], 0), chunk, source.Teacher)),
            ("online_full_vocab", () => Step(model, optimizer, () => ([Part(source, indices, kd)], 0), chunk, full)),
            ("online_topk_on_the_fly", () => Step(model, optimizer, () => ([Part(source, indices, tailKd)], 0), chunk, topK)),
            ("on_policy_lambda_1", () => Step(model, optimizer, () =>
            {
                var (parts, stats) = onPolicy.Build(source, indices, 0, model.Compute, null);
                return (parts, stats.Seconds);
            }, chunk, full)),
        };
        foreach (var kind in kinds) kind.Step();
        var times = kinds.ToDictionary(k => k.Name, _ => new List<(double Seconds, double Generation, double Teacher)>());
        for (var r = 0; r < Runs; r++)
            foreach (var kind in kinds) times[kind.Name].Add(kind.Step());
        double Median(string name) => times[name].Select(t => t.Seconds).Order().ElementAt(Runs / 2);
        var onPolicyRun = times["on_policy_lambda_1"].OrderBy(t => t.Seconds).ElementAt(Runs / 2);
        var offline = Median("offline_topk_cache");
        return new JsonObject
        {
            ["method"] = Method, ["micro_batch"] = Batch, ["seq_len"] = SeqLen, ["top_k"] = TopK, ["new_tokens"] = NewTokens, ["runs"] = Runs,
            ["offline_topk_cache_step_s"] = offline,
            ["online_full_vocab_step_s"] = Median("online_full_vocab"),
            ["online_topk_on_the_fly_step_s"] = Median("online_topk_on_the_fly"),
            ["online_full_vocab_over_offline"] = Median("online_full_vocab") / offline,
            ["online_topk_over_offline"] = Median("online_topk_on_the_fly") / offline,
            ["on_policy_step_s"] = onPolicyRun.Seconds,
            ["on_policy_generation_fraction"] = onPolicyRun.Generation / onPolicyRun.Seconds,
            ["on_policy_teacher_fraction"] = onPolicyRun.Teacher / onPolicyRun.Seconds,
            ["on_policy_student_fraction"] = (onPolicyRun.Seconds - onPolicyRun.Generation - onPolicyRun.Teacher) / onPolicyRun.Seconds,
        };
    }

    private static BatchPart Part(SyntheticTrainingSource source, long[] indices, KdObjective objective) =>
        new(indices.Select(source.Example).ToArray(), indices, objective);

    private static (double Seconds, double Generation, double Teacher) Step(TrainingModel model, optim.Optimizer optimizer,
        Func<(IReadOnlyList<BatchPart> Parts, double Generation)> parts, int chunk, ITeacher? teacher)
    {
        using var scope = NewDisposeScope();
        var start = Stopwatch.GetTimestamp();
        model.ZeroGrad();
        var (batch, generation) = parts();
        var result = GradientAccumulator.Accumulate(model.Compute, batch, Batch, chunk, teacher);
        model.CopyGradsToMasters();
        nn.utils.clip_grad_norm_(model.Master.parameters(), 1.0);
        optimizer.step();
        model.CopyMastersToCompute();
        model.ZeroGrad();
        return (Stopwatch.GetElapsedTime(start).TotalSeconds, generation, result.TeacherSeconds);
    }
}
