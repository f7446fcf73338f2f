using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// A Llama-family causal language model (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM):
/// the decoder stack plus the output projection, with state-dict names equal to Hugging Face's.
/// When embeddings are tied there is no <c>lm_head</c> at all, so <c>lm_head.weight</c> is neither
/// saved nor expected.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1708", Justification = "TorchSharp requires the lower-case forward override; Forward is the public typed entry point.")]
public sealed class LlamaForCausalLM : nn.Module<CausalLMInput, CausalLMOutput>
{
    /// <summary>HF name: model.</summary>
    private readonly LlamaModel model;

    /// <summary>HF name: lm_head [V, hidden]; null when tie_word_embeddings.</summary>
    private readonly Linear? lm_head;

    /// <summary>Creates a model with Hugging Face's initialisation (normal(0, initializer_range), norms at 1).</summary>
    public LlamaForCausalLM(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : this(config, device, dtype, initialize: true)
    {
    }

    /// <summary>Skips the initialisation when the weights are about to be loaded anyway.</summary>
    internal LlamaForCausalLM(LlamaConfig config, Device? device, ScalarType dtype, bool initialize)
        : base(nameof(LlamaForCausalLM))
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new NotSupportedException($"model dtype {dtype} is not supported (Float32, BFloat16, Float16)");
        config.Validate();
        Config = config;
        DType = dtype;
        Device = device ?? CPU;
        model = new LlamaModel(config, Device, dtype);
        lm_head = config.TieWordEmbeddings ? null : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, Device, dtype);
        RegisterComponents();
        if (initialize) InitializeWeights();
    }

    /// <summary>The configuration the model was built from (saved back as config.json).</summary>
    public LlamaConfig Config { get; }

    /// <summary>Parameter dtype.</summary>
    public ScalarType DType { get; }

    /// <summary>Parameter device.</summary>
    public Device Device { get; }

    /// <summary>[V, hidden] output projection: lm_head.weight, or the embedding matrix when tied.</summary>
    public Tensor LmHeadWeight => lm_head?.weight ?? model.EmbeddingWeight;

    /// <summary>Runs the model; see <see cref="CausalLMInput"/> for the switches.</summary>
    public CausalLMOutput Forward(CausalLMInput input) => forward(input);

    /// <inheritdoc />
    public override CausalLMOutput forward(CausalLMInput input)
    {
        var output = model.forward(input);
        if (!input.ComputeLogits) return output;
        using var scope = NewDisposeScope();
        var logits = nn.functional.linear(output.LastHiddenState, LmHeadWeight); // [B, T, V]
        return output with { Logits = logits.MoveToOuterDisposeScope() };
    }

    /// <summary>Number of parameters (tied matrices counted once).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Re-draws every weight as Hugging Face initialises a fresh model, from torch's global generator.</summary>
    public void InitializeWeights()
    {
        using var noGrad = no_grad();
        var std = Config.InitializerRange;
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name == "model.norm.weight")
                parameter.fill_(1.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
                parameter.zero_();
            else
                parameter.normal_(0.0, std);
        }
        if (Config.PaddingIndex is { } pad) model.EmbeddingWeight[pad].zero_();
    }
}
