using System.Globalization;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>How <c>distill init-student</c> makes a student from its teacher.</summary>
/// <param name="Teacher">The teacher's Hugging Face folder.</param>
/// <param name="Out">The student's folder (must not exist or be empty).</param>
/// <param name="Layers">Teacher decoder layers copied as they are, in order (DistilBERT's initialisation); or null.</param>
/// <param name="ConfigOverrides">config.json keys that make a smaller student initialised at random (hidden_size,
/// num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, head_dim…); or null.</param>
/// <param name="Seed">Seed of the random initialisation (the overrides mode).</param>
/// <param name="Widths">Minitron's width pruning of the (copied) layers: channels, heads and neurons kept by their
/// activation importance on <paramref name="Calibration"/>; or null.</param>
/// <param name="Calibration">Token id sequences the teacher runs on to rank what <paramref name="Widths"/> prunes.</param>
public sealed record StudentInitOptions(string Teacher, string Out, IReadOnlyList<int>? Layers = null, JsonObject? ConfigOverrides = null, long Seed = 0,
    PruneWidths? Widths = null, IReadOnlyList<int[]>? Calibration = null)
{
    /// <summary>Every <paramref name="every"/>-th layer of <paramref name="teacherLayers"/>, from layer 0 (DistilBERT: one in two).</summary>
    public static int[] EveryNth(int teacherLayers, int every)
    {
        if (every < 1) throw new InvalidDataException($"--every {every} must be >= 1");
        return [.. Enumerable.Range(0, teacherLayers).Where(i => i % every == 0)];
    }
}

/// <summary>
/// A student made from its teacher: the teacher's tokenizer files, and either a subset of its decoder layers copied
/// together with its embeddings, final norm and output projection (DistilBERT's recipe, for decoder LLMs), optionally
/// narrowed by <see cref="WidthPruning"/> (Minitron's), or a smaller configuration initialised at random (seeded),
/// keeping the teacher's embeddings when the width allows.
/// Where it came from is recorded in config.json under <see cref="ProvenanceKey"/>, which transformers keeps as an
/// unused attribute, so the folder loads unchanged there.
/// </summary>
public static class StudentInit
{
    /// <summary>The config.json key holding the student's provenance.</summary>
    public const string ProvenanceKey = "distill_student_init";

    /// <summary>Writes the student folder and returns its config.</summary>
    /// <exception cref="InvalidDataException">Layers out of range, repeated or missing, or overrides that make a bad config; before any weight is read.</exception>
    public static LlamaConfig Run(StudentInitOptions options)
    {
        bool fromTeacher = options.Layers is not null || options.Widths is not null;
        if (fromTeacher == (options.ConfigOverrides is not null))
            throw new InvalidDataException("give exactly one of --layers/--every and the pruned widths (copy teacher layers, narrowed or not) or --config (a smaller random student)");
        if (options.Widths is not null && options.Calibration is not { Count: > 0 })
            throw new InvalidDataException("width pruning needs calibration data (--calibration): the teacher's activations on it rank what is kept");
        var teacherConfig = LlamaConfig.Load(Path.Combine(options.Teacher, HfModelFolder.ConfigFile));
        var raw = teacherConfig.Raw.DeepClone().AsObject();
        var layers = options.Layers ?? [.. Enumerable.Range(0, teacherConfig.NumHiddenLayers)];
        if (fromTeacher)
        {
            CheckLayers(layers, teacherConfig.NumHiddenLayers, options.Teacher);
            raw["num_hidden_layers"] = layers.Count;
            SubsetPerLayerKeys(raw, layers);
            var provenance = Provenance(options.Teacher, options.Widths is null ? "teacher_layers" : "pruned", new JsonArray([.. layers.Select(l => (JsonNode)l)]), null);
            if (options.Widths is { } widths)
            {
                WidthPruning.ApplyToConfig(raw, teacherConfig, widths);
                provenance["calibration_sequences"] = options.Calibration!.Count;
            }
            raw[ProvenanceKey] = provenance;
        }
        else
        {
            foreach (var (key, value) in options.ConfigOverrides!)
                raw[key] = value?.DeepClone();
            raw[ProvenanceKey] = Provenance(options.Teacher, "random", null, options.Seed);
        }
        var studentConfig = LlamaConfig.Parse(raw.ToJsonString(), $"{options.Out}/{HfModelFolder.ConfigFile} (made from {options.Teacher})");
        using var teacher = HfModelFolder.Load(options.Teacher, CPU, ScalarType.Float32);
        random.manual_seed(options.Seed);
        using var student = new LlamaForCausalLM(studentConfig, CPU, ScalarType.Float32);
        if (options.Widths is null) CopyWeights(teacher, student, options.Layers);
        else WidthPruning.Copy(teacher, student, layers, WidthPruning.Measure(teacher, options.Calibration!));
        HfModelFolder.Save(student, options.Out, new HfSaveOptions { SourceDirectory = options.Teacher });
        return studentConfig;
    }

    /// <summary>The teacher layers a student folder was copied from, or null (from its config.json's provenance key).</summary>
    public static string? Describe(LlamaConfig config)
    {
        if (config.Raw[ProvenanceKey] is not JsonObject p) return null;
        var teacher = p["teacher"]?.ToString() ?? "?";
        return p["teacher_layers"] is JsonArray layers
            ? (p["method"]?.ToString() == "pruned" ? "width-pruned " : "") + $"teacher layers {string.Join(",", layers)} of {teacher}"
            : $"random initialisation (seed {p["seed"]}) with the tokenizer of {teacher}";
    }

    private static void CheckLayers(IReadOnlyList<int> layers, int teacherLayers, string teacher)
    {
        if (layers.Count == 0) throw new InvalidDataException("no teacher layers chosen");
        foreach (var layer in layers)
            if (layer < 0 || layer >= teacherLayers)
                throw new InvalidDataException($"layer {layer} is outside the teacher's layers 0..{teacherLayers - 1} ({teacher})");
        if (layers.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new InvalidDataException($"layer {repeated.Key} is chosen more than once");
    }

    // Per-layer lists (Qwen2's layer_types, for one) follow the copied layers.
    private static void SubsetPerLayerKeys(JsonObject raw, IReadOnlyList<int> layers)
    {
        foreach (var key in raw.Where(kv => kv.Value is JsonArray a && a.Count > layers.Max() && kv.Key.StartsWith("layer", StringComparison.Ordinal)).Select(kv => kv.Key).ToArray())
            raw[key] = new JsonArray([.. layers.Select(l => raw[key]![l]!.DeepClone())]);
    }

    private static JsonObject Provenance(string teacher, string method, JsonArray? layers, long? seed)
    {
        var p = new JsonObject { ["teacher"] = Path.GetFullPath(teacher), ["method"] = method };
        if (layers is not null) p["teacher_layers"] = layers;
        if (seed is not null) p["seed"] = seed.Value;
        return p;
    }

    // Copied layers take their teacher layer's tensors under the new index; embeddings, final norm and output
    // projection come over whenever their shapes agree (always when layers are copied).
    private static void CopyWeights(LlamaForCausalLM teacher, LlamaForCausalLM student, IReadOnlyList<int>? layers)
    {
        using var noGrad = no_grad();
        var source = teacher.state_dict();
        foreach (var (name, tensor) in student.state_dict())
        {
            var from = TeacherName(name, layers);
            if (from is not null && source.TryGetValue(from, out var t) && t.shape.SequenceEqual(tensor.shape)) tensor.copy_(t);
        }
    }

    private static string? TeacherName(string name, IReadOnlyList<int>? layers)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return name;
        if (layers is null) return null;
        var dot = name.IndexOf('.', prefix.Length);
        var index = int.Parse(name[prefix.Length..dot], CultureInfo.InvariantCulture);
        return prefix + layers[index].ToString(CultureInfo.InvariantCulture) + name[dot..];
    }
}
