using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// Randomly initialised Llama-layout folders for the sample: the teacher before <c>distill train</c>, and the
/// demo's shared student initialisation. Token ids follow <see cref="SampleTokenizer.SpecialTokens"/>: they sit
/// just past the trained vocabulary, so bos/eos/pad are the last three ids.
/// </summary>
public static class SampleModels
{
    /// <summary>A Llama config for the sample's tokenizer; tied embeddings keep the tiny models tiny.</summary>
    /// <param name="vocabSize">Trained tokens plus the three special tokens.</param>
    /// <param name="hidden">hidden_size (a multiple of <paramref name="heads"/>).</param>
    /// <param name="layers">num_hidden_layers.</param>
    /// <param name="heads">num_attention_heads (and key/value heads).</param>
    /// <param name="intermediate">intermediate_size of the MLP.</param>
    public static LlamaConfig Config(int vocabSize, int hidden, int layers, int heads, int intermediate)
    {
        int pad = vocabSize - 3, bos = vocabSize - 2, eos = vocabSize - 1;
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = vocabSize,
            ["hidden_size"] = hidden,
            ["intermediate_size"] = intermediate,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = heads,
            ["max_position_embeddings"] = 256,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = true,
            ["bos_token_id"] = bos,
            ["eos_token_id"] = eos,
            ["pad_token_id"] = pad,
            ["torch_dtype"] = "float32",
        };
        return LlamaConfig.Parse(json.ToJsonString());
    }

    /// <summary>The sample teacher's shape: hidden 192, 4 layers, 6 heads, MLP 512 (~1.9M parameters, ~3.8 times the demo's student).</summary>
    public static LlamaConfig TeacherConfig(int vocabSize) => Config(vocabSize, hidden: 192, layers: 4, heads: 6, intermediate: 512);

    /// <summary>
    /// Writes a randomly initialised model (seeded, so two calls with one seed give identical weights) with the
    /// tokenizer files of <paramref name="tokenizerFolder"/> into <paramref name="dir"/>, replacing what is there.
    /// </summary>
    public static void Initialise(string dir, LlamaConfig config, string tokenizerFolder, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        random.manual_seed(seed);
        using var model = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
        HfModelFolder.Save(model, dir, new HfSaveOptions { SourceDirectory = tokenizerFolder, Overwrite = true });
    }

    /// <summary>Calibration conversations (of the student's training set) the teacher runs on to rank what pruning keeps.</summary>
    public const int CalibrationExamples = 128;

    /// <summary>
    /// The folder every demo's students of seed <paramref name="seed"/> start from, made under <paramref name="root"/>:
    /// with <see cref="DemoInit.Random"/> a random <paramref name="config"/> per seed; with <see cref="DemoInit.Pruned"/>
    /// one folder for all seeds (made when seed 1 asks), every n-th teacher layer from the first (n = the teacher's
    /// layers / the student's) narrowed to <paramref name="config"/>'s widths by <see cref="WidthPruning"/>, ranked on the
    /// first <see cref="CalibrationExamples"/> conversations of <paramref name="train"/>.
    /// </summary>
    public static string StudentStart(DemoInit init, string root, string teacher, string train, LlamaConfig config, int seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (init == DemoInit.Random)
        {
            string dir = Path.Combine(root, $"seed{seed}", "init");
            Initialise(dir, config, teacher, seed);
            return dir;
        }
        string pruned = Path.Combine(root, "init");
        if (seed > 1 && File.Exists(Path.Combine(pruned, "model.safetensors"))) return pruned;
        if (Directory.Exists(pruned)) Directory.Delete(pruned, recursive: true);
        var teacherConfig = LlamaConfig.Load(Path.Combine(teacher, HfModelFolder.ConfigFile));
        if (config.NumHiddenLayers > teacherConfig.NumHiddenLayers)
            throw new InvalidDataException($"a pruned student has at most the teacher's {teacherConfig.NumHiddenLayers} layers, not {config.NumHiddenLayers}");
        int every = teacherConfig.NumHiddenLayers / config.NumHiddenLayers;
        StudentInit.Run(new StudentInitOptions(teacher, pruned, Layers: [.. StudentInitOptions.EveryNth(teacherConfig.NumHiddenLayers, every).Take(config.NumHiddenLayers)],
            Widths: new PruneWidths(config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads),
            Calibration: TrainingData.Sequences(train, teacher, CalibrationExamples)));
        return pruned;
    }

    /// <summary>Reads the vocab_size a sample tokenizer folder needs: its tokenizer.json's vocabulary plus added tokens.</summary>
    public static int VocabSize(string tokenizerFolder)
    {
        string path = Path.Combine(tokenizerFolder, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty");
        int vocab = root["model"]?["vocab"]?.AsObject().Count ?? throw new InvalidDataException($"{path}: model.vocab is missing");
        int added = root["added_tokens"]?.AsArray().Count ?? 0;
        return vocab + added;
    }

    /// <summary>Formats a size for file names and logs.</summary>
    internal static string Describe(LlamaConfig c) =>
        string.Create(CultureInfo.InvariantCulture, $"hidden {c.HiddenSize}, {c.NumHiddenLayers} layers, {c.NumAttentionHeads} heads, mlp {c.IntermediateSize}, vocab {c.VocabSize}");
}
