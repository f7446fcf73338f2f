namespace Distill.Serving;

/// <summary>What <c>distill serve</c> serves and where: <see cref="ServingEngine.Load"/> and <see cref="OpenAiServer.StartAsync"/>'s settings with their defaults.</summary>
public sealed record ServeOptions
{
    /// <summary>Hugging Face folder of the model served.</summary>
    public required string Model { get; init; }

    /// <summary>Address to listen on; loopback unless the user opens it up (0.0.0.0: every interface).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port (0 picks a free one); 8000 is vLLM's, so clients written for it work unchanged.</summary>
    public int Port { get; init; } = 8000;

    /// <summary>The model id clients use; null: the folder's name.</summary>
    public string? ServedModelName { get; init; }

    /// <summary>Built-in chat template instead of the model's own.</summary>
    public string? ChatFormat { get; init; }

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Compute dtype, fp32 or bf16.</summary>
    public string DType { get; init; } = "fp32";

    /// <summary>The batching engine's settings.</summary>
    public EngineOptions Engine { get; init; } = new();
}
