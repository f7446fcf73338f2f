using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Teachers;
using Distill.Text.Conversations;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// <c>distill topk</c>'s cost over a plain forward pass of the same teacher on the same batch (the ~45M Llama of
/// <see cref="ForwardThroughput"/>, batch 4 × 512 tokens, every position after the first supervised, K = 100): the plain
/// pass returns the full [B, T, V] logits; the top-K pass gathers the supervised hidden rows, projects them in chunks
/// and keeps the top-K, the log-sum-exp and the managed copies the cache writer needs. The target is an overhead of at
/// most 10%.
/// </summary>
internal static class TopKOverhead
{
    public static JsonNode Run(JsonObject peak)
    {
        const int batch = 4, seqLen = 512, topK = 100;
        var result = new JsonObject { ["batch"] = batch, ["seq_len"] = seqLen, ["top_k"] = topK };
        foreach (var (name, dtype) in new[] { ("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16) })
        {
            using var scope = NewDisposeScope();
            var config = LlamaConfig.Parse(ForwardThroughput.BenchConfig, "bench config");
            using var model = new LlamaForCausalLM(config, CPU, dtype);
            model.eval();
            var ids = randint(0, config.VocabSize, [batch, seqLen], dtype: ScalarType.Int64);
            var examples = Examples(ids, batch, seqLen);
            var teacher = new TopKTeacher(model, topK);
            double plain = Stopwatches.MedianSeconds(() =>
            {
                using var step = NewDisposeScope();
                using var noGrad = no_grad();
                model.Forward(new CausalLMInput { InputIds = ids });
            }, warmup: 1, runs: 3);
            double withTopK = Stopwatches.MedianSeconds(() => teacher.ComputeBatch(examples), warmup: 1, runs: 3);
            result[name] = new JsonObject
            {
                ["plain_forward_tokens_per_s"] = batch * seqLen / plain,
                ["topk_tokens_per_s"] = batch * seqLen / withTopK,
                ["overhead"] = withTopK / plain - 1,
            };
        }
        return result;
    }

    private static TokenizedExample[] Examples(Tensor ids, int batch, int seqLen)
    {
        var all = ids.data<long>().ToArray();
        return Enumerable.Range(0, batch).Select(b =>
        {
            var row = all.AsSpan(b * seqLen, seqLen).ToArray().Select(v => (int)v).ToArray();
            var mask = Enumerable.Range(0, seqLen).Select(j => (byte)(j == 0 ? 0 : 1)).ToArray();
            return new TokenizedExample(row, mask, "bench", b + 1, false);
        }).ToArray();
    }
}
