using System.Text.Json.Nodes;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Forward tokens/s of a Llama-shaped model of about 45M parameters (vocab 32000, hidden 512, 4 layers,
/// GQA 8/4 heads, untied head) at sequence length 512, in fp32 and bf16, with the achieved FLOP/s as a
/// fraction of the matmul peak measured in the same run.
/// </summary>
internal static class ForwardThroughput
{
    internal const string BenchConfig = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
         "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 4,
         "num_attention_heads": 8, "num_key_value_heads": 4, "rms_norm_eps": 1e-5,
         "rope_theta": 10000.0, "max_position_embeddings": 2048, "tie_word_embeddings": false}
        """;

    public static JsonNode Run(JsonObject peak)
    {
        const int batch = 4, seqLen = 512;
        var result = new JsonObject { ["batch"] = batch, ["seq_len"] = seqLen };
        foreach (var (name, dtype, peakKey) in new[] { ("fp32", ScalarType.Float32, "fp32_flops"), ("bf16", ScalarType.BFloat16, "bf16_flops") })
        {
            using var scope = NewDisposeScope();
            var config = LlamaConfig.Parse(BenchConfig, "bench config");
            using var model = new LlamaForCausalLM(config, CPU, dtype);
            model.eval();
            var ids = randint(0, config.VocabSize, [batch, seqLen], dtype: ScalarType.Int64);
            double seconds = Stopwatches.MedianSeconds(() =>
            {
                using var step = NewDisposeScope();
                using var noGrad = no_grad();
                model.Forward(new CausalLMInput { InputIds = ids });
            }, warmup: 1, runs: 3);
            double tokensPerSecond = batch * seqLen / seconds;
            double flopsPerToken = ForwardFlopsPerToken(config, model, seqLen);
            double achieved = tokensPerSecond * flopsPerToken;
            result[name] = new JsonObject
            {
                ["parameters"] = model.ParameterCount(),
                ["tokens_per_s"] = tokensPerSecond,
                ["flops_per_token"] = flopsPerToken,
                ["achieved_flops"] = achieved,
                ["fraction_of_matmul_peak"] = achieved / (double)peak[peakKey]!,
            };
        }
        return result;
    }

    /// <summary>
    /// PaLM's accounting for one forward pass: 2 FLOPs per weight of every matmul (all parameters except the
    /// input embedding and the norms) plus 4·layers·(heads·head_dim)·T per token for the attention scores and
    /// their weighted sum, counted without the causal half (as PaLM's MFU does).
    /// </summary>
    internal static double ForwardFlopsPerToken(LlamaConfig config, LlamaForCausalLM model, int seqLen)
    {
        long matmulWeights = model.named_parameters()
            .Where(p => p.name != "model.embed_tokens.weight" && !p.name.EndsWith("norm.weight", StringComparison.Ordinal))
            .Sum(p => p.parameter.numel());
        if (config.TieWordEmbeddings) matmulWeights += (long)config.VocabSize * config.HiddenSize;
        double attention = 4.0 * config.NumHiddenLayers * config.NumAttentionHeads * config.HeadDimension * seqLen;
        return 2.0 * matmulWeights + attention;
    }
}
