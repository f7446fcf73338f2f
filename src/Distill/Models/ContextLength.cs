namespace Distill.Models;

/// <summary>The sequence limit every tokenizing command uses when none is given.</summary>
public static class ContextLength
{
    /// <summary>
    /// <paramref name="given"/>, else the <c>max_position_embeddings</c> of <paramref name="modelDir"/>'s config.json (the
    /// longest sequence the model's positions were trained for, and a bound on attention's memory), else null when the
    /// folder has no config.json (a tokenizer-only folder: nothing to bound by).
    /// </summary>
    public static int? Resolve(int? given, string modelDir)
    {
        if (given is not null) return given;
        var path = Path.Combine(modelDir, HfModelFolder.ConfigFile);
        return File.Exists(path) ? LlamaConfig.Load(path).MaxPositionEmbeddings : null;
    }
}
