namespace Distill.Models;

/// <summary>The decoder-only families that share the Llama block layout.</summary>
public enum ModelFamily
{
    /// <summary>LlamaForCausalLM (Llama 2/3/3.1/3.2, TinyLlama, SmolLM2).</summary>
    Llama,

    /// <summary>MistralForCausalLM: no biases, optional sliding-window attention.</summary>
    Mistral,

    /// <summary>Qwen2ForCausalLM: biases on q/k/v but not on o.</summary>
    Qwen2,
}
