using System.Text.Json.Nodes;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

/// <summary>Tiny random models in Hugging Face layout: hidden 32, 2 layers, 4 heads, 2 kv heads, vocab 61.</summary>
internal static class TinyModels
{
    public const int Vocab = 61;

    public static JsonObject ConfigJson(string architecture = "LlamaForCausalLM", bool tied = false, int kvHeads = 2)
    {
        var modelType = architecture switch
        {
            "MistralForCausalLM" => "mistral",
            "Qwen2ForCausalLM" => "qwen2",
            _ => "llama",
        };
        return new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = modelType,
            ["vocab_size"] = Vocab,
            ["hidden_size"] = 32,
            ["intermediate_size"] = 40,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = kvHeads,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 128,
            ["tie_word_embeddings"] = tied,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = "4.46.0",
            ["some_unknown_key"] = new JsonObject { ["kept"] = true },
        };
    }

    public static LlamaConfig Config(JsonObject json) => LlamaConfig.Parse(json.ToJsonString());

    public static LlamaForCausalLM Create(JsonObject json, ScalarType dtype = ScalarType.Float32, int seed = 7)
    {
        random.manual_seed(seed);
        return new LlamaForCausalLM(Config(json), CPU, dtype);
    }

    public static LlamaForCausalLM Create(string architecture = "LlamaForCausalLM", bool tied = false, int kvHeads = 2, ScalarType dtype = ScalarType.Float32) =>
        Create(ConfigJson(architecture, tied, kvHeads), dtype);

    public static Tensor RandomIds(long batch, long length, int seed = 3)
    {
        var generator = new Generator((ulong)seed);
        return randint(Vocab, new[] { batch, length }, dtype: ScalarType.Int64, generator: generator);
    }
}
