using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Loads and saves Hugging Face model folders: config.json, model.safetensors (or shards with
/// model.safetensors.index.json), generation_config.json and the tokenizer files, with Hugging Face's
/// tensor names so transformers, vLLM and llama.cpp's converter read what Distill writes.
/// </summary>
public static class HfModelFolder
{
    /// <summary>Tokenizer files carried over on save when the source folder has them.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
        "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
    ];

    internal const string ConfigFile = "config.json";
    internal const string GenerationConfigFile = "generation_config.json";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Reads <paramref name="dir"/>'s config, checks every tensor name and shape it implies against the
    /// files' headers, builds the model on <paramref name="device"/> in <paramref name="dtype"/>, then
    /// loads the weights (bf16, f16 or f32 on disk, converted to <paramref name="dtype"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">Bad config or weights; the message names the file and key or tensor.</exception>
    /// <exception cref="NotSupportedException">An architecture or feature Distill does not implement.</exception>
    public static LlamaForCausalLM Load(string dir, Device device, ScalarType dtype)
    {
        var config = LlamaConfig.Load(Path.Combine(dir, ConfigFile));
        using var weights = HfWeights.Open(dir);
        // Each layer stores at least nine tensors: a layer count beyond the files' tensor count cannot load, and
        // listing its expected names first would let a hostile config ask for an arbitrarily long list.
        if (config.NumHiddenLayers > weights.Count)
            throw new InvalidDataException($"{config.SourcePath}: key 'num_hidden_layers' is {config.NumHiddenLayers}, but the weights hold only {weights.Count} tensors");
        weights.Check(LlamaStateLayout.Expected(config), config.TieWordEmbeddings);
        var model = new LlamaForCausalLM(config, device, dtype, initialize: false);
        try
        {
            weights.LoadInto(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> as a Hugging Face folder at <paramref name="dir"/>. Everything goes
    /// to a temporary sibling folder first, renamed into place only when complete, so a failed save
    /// leaves nothing behind.
    /// </summary>
    /// <exception cref="IOException"><paramref name="dir"/> exists and is not empty, and overwriting was not asked for.</exception>
    public static void Save(LlamaForCausalLM model, string dir, HfSaveOptions? options = null)
    {
        options ??= new HfSaveOptions();
        if (options.MaxShardBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "MaxShardBytes must be positive");
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        if (IsNonEmptyDirectory(target) && !options.Overwrite)
            throw new IOException($"{target}: folder exists and is not empty (pass Overwrite to replace it)");
        var parent = Path.GetDirectoryName(target) ?? throw new IOException($"{target}: cannot save into a root folder");
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.saving-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var source = options.SourceDirectory ?? DefaultSource(model.Config);
            WriteConfig(model, temp);
            WriteGenerationConfig(model.Config, source, temp);
            CopyTokenizerFiles(source, temp);
            WriteWeights(model, temp, options.MaxShardBytes);
            Publish(temp, target);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>The Hugging Face name of a dtype ("float32", "bfloat16", "float16").</summary>
    public static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new NotSupportedException($"dtype {dtype} has no Hugging Face model dtype name"),
    };

    private static string? DefaultSource(LlamaConfig config)
    {
        if (!Path.IsPathRooted(config.SourcePath) || !File.Exists(config.SourcePath)) return null;
        return Path.GetDirectoryName(config.SourcePath);
    }

    private static bool IsNonEmptyDirectory(string path) =>
        Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any();

    private static void WriteConfig(LlamaForCausalLM model, string dir)
    {
        var raw = model.Config.Raw.DeepClone().AsObject();
        // Transformers v5 renamed torch_dtype to dtype; update whichever spelling the file uses.
        var key = raw.ContainsKey("dtype") && !raw.ContainsKey("torch_dtype") ? "dtype" : "torch_dtype";
        raw[key] = DTypeName(model.DType);
        File.WriteAllText(Path.Combine(dir, ConfigFile), raw.ToJsonString(WriteOptions) + "\n");
    }

    private static void WriteGenerationConfig(LlamaConfig config, string? source, string dir)
    {
        var carried = source is null ? null : Path.Combine(source, GenerationConfigFile);
        if (carried is not null && File.Exists(carried))
        {
            File.Copy(carried, Path.Combine(dir, GenerationConfigFile));
            return;
        }
        var generation = new JsonObject { ["_from_model_config"] = true };
        if (config.BosTokenId is { } bos) generation["bos_token_id"] = TokenIds(bos);
        if (config.EosTokenId is { } eos) generation["eos_token_id"] = TokenIds(eos);
        if (config.PadTokenId is { } pad) generation["pad_token_id"] = TokenIds(pad);
        File.WriteAllText(Path.Combine(dir, GenerationConfigFile), generation.ToJsonString(WriteOptions) + "\n");
    }

    private static JsonNode TokenIds(IReadOnlyList<int> ids) =>
        ids.Count == 1 ? JsonValue.Create(ids[0]) : new JsonArray(ids.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());

    private static void CopyTokenizerFiles(string? source, string dir)
    {
        if (source is null) return;
        if (!Directory.Exists(source))
            throw new DirectoryNotFoundException($"{source}: source folder for tokenizer files does not exist");
        foreach (var name in TokenizerFiles)
        {
            var file = Path.Combine(source, name);
            if (File.Exists(file)) File.Copy(file, Path.Combine(dir, name));
        }
    }

    private static void WriteWeights(LlamaForCausalLM model, string dir, long maxShardBytes)
    {
        var tensors = model.state_dict().ToList();
        var shards = PlanShards(tensors, maxShardBytes);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(dir, HfWeights.SingleFile), tensors, metadata);
            return;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(dir, name), shards[i], metadata);
            foreach (var (tensor, _) in shards[i]) weightMap[tensor] = name;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = tensors.Sum(t => ByteSize(t.Value)) },
            ["weight_map"] = new JsonObject(weightMap.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        };
        File.WriteAllText(Path.Combine(dir, HfWeights.IndexFile), index.ToJsonString(WriteOptions) + "\n");
    }

    /// <summary>Greedy, in state-dict order: a shard closes when the next tensor would take it past the limit.</summary>
    internal static List<List<KeyValuePair<string, Tensor>>> PlanShards(List<KeyValuePair<string, Tensor>> tensors, long maxShardBytes)
    {
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long size = 0;
        foreach (var entry in tensors)
        {
            var bytes = ByteSize(entry.Value);
            if (shards[^1].Count > 0 && size + bytes > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(entry);
            size += bytes;
        }
        return shards;
    }

    private static long ByteSize(Tensor t) => t.numel() * DTypes.ElementSize(DTypes.FromTorch(t.dtype));

    private static void Publish(string temp, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(temp, target);
            return;
        }
        var backup = temp + ".old";
        Directory.Move(target, backup);
        try
        {
            Directory.Move(temp, target);
        }
        catch
        {
            Directory.Move(backup, target);
            throw;
        }
        Directory.Delete(backup, recursive: true);
    }
}
