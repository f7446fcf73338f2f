using System.Text.Json;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// The safetensors weights of a Hugging Face folder, single-file or sharded, opened (memory-mapped)
/// and indexed by tensor name. Nothing is read from the data buffers until <see cref="LoadInto"/>.
/// </summary>
internal sealed class HfWeights : IDisposable
{
    internal const string SingleFile = "model.safetensors";
    internal const string IndexFile = "model.safetensors.index.json";
    private const int MaxReportedProblems = 10;

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _byName;

    private HfWeights(string describedBy, List<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> byName)
    {
        DescribedBy = describedBy;
        _files = files;
        _byName = byName;
    }

    /// <summary>model.safetensors, or the index file for sharded weights: named when a tensor is missing.</summary>
    public string DescribedBy { get; }

    /// <summary>Number of tensors the files hold.</summary>
    public int Count => _byName.Count;

    /// <summary>Every tensor the files hold, with the file holding it.</summary>
    public IEnumerable<(SafetensorsFile File, SafetensorsTensorInfo Info)> Tensors => _byName.Values;

    /// <summary>Opens the weights of <paramref name="dir"/>: the index's shards if there is an index, else model.safetensors.</summary>
    public static HfWeights Open(string dir)
    {
        var index = Path.Combine(dir, IndexFile);
        if (File.Exists(index)) return OpenSharded(dir, index);
        var single = Path.Combine(dir, SingleFile);
        if (File.Exists(single)) return FromFiles(single, [single], null);
        if (File.Exists(Path.Combine(dir, "pytorch_model.bin")))
            throw new NotSupportedException($"{dir}: only pytorch_model.bin (pickle) weights; convert them to safetensors first");
        throw new InvalidDataException($"{dir}: neither {SingleFile} nor {IndexFile} found");
    }

    private static HfWeights OpenSharded(string dir, string index)
    {
        var weightMap = ReadWeightMap(index);
        var shards = weightMap.Values.Distinct(StringComparer.Ordinal).Select(f => Path.Combine(dir, f)).ToList();
        foreach (var shard in shards.Where(s => !File.Exists(s)))
            throw new InvalidDataException($"{index}: shard '{Path.GetFileName(shard)}' named in weight_map does not exist");
        var weights = FromFiles(index, shards, weightMap);
        return weights;
    }

    private static Dictionary<string, string> ReadWeightMap(string index)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{index}: key 'weight_map' is missing or not an object");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                // Shards must sit beside the index: a path could read files outside the model folder.
                if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
                    throw new InvalidDataException($"{index}: tensor '{entry.Name}': shard name '{entry.Value}' is not a plain file name");
                result[entry.Name] = file;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{index}: not valid JSON: {e.Message}", e);
        }
    }

    private static HfWeights FromFiles(string describedBy, List<string> paths, Dictionary<string, string>? weightMap)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var byName = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
            foreach (var path in paths)
            {
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (var info in file.Tensors)
                {
                    if (byName.TryGetValue(info.Name, out var other))
                        throw new InvalidDataException($"{path}: tensor '{info.Name}' is also stored in {other.Item1.Path}");
                    byName[info.Name] = (file, info);
                }
            }
            if (weightMap is not null) CheckWeightMap(describedBy, weightMap, byName);
            return new HfWeights(describedBy, files, byName);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    private static void CheckWeightMap(string index, Dictionary<string, string> weightMap, Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo)> byName)
    {
        foreach (var (name, shard) in weightMap)
        {
            if (!byName.TryGetValue(name, out var held) || Path.GetFileName(held.File.Path) != shard)
                throw new InvalidDataException($"{index}: tensor '{name}': weight_map says {shard}, which does not hold it");
        }
        foreach (var (name, held) in byName)
        {
            if (!weightMap.ContainsKey(name))
                throw new InvalidDataException($"{held.File.Path}: tensor '{name}' is not listed in {Path.GetFileName(index)}'s weight_map");
        }
    }

    /// <summary>
    /// Compares every expected name and shape with what the files hold, reporting every mismatch at once.
    /// Called before the model is built, so nothing is allocated for a folder that cannot load.
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, unexpected or mis-shaped tensors, or non-float weights, each named with its file.</exception>
    public void Check(IReadOnlyList<(string Name, long[] Shape)> expected, bool tied)
    {
        var problems = new List<string>();
        foreach (var (name, shape) in expected)
        {
            if (!_byName.TryGetValue(name, out var held))
            {
                problems.Add($"{DescribedBy}: tensor '{name}' is missing");
                continue;
            }
            if (!held.Info.Shape.SequenceEqual(shape))
                problems.Add($"{held.File.Path}: tensor '{name}' has shape [{string.Join(", ", held.Info.Shape)}], expected [{string.Join(", ", shape)}]");
            if (held.Info.DType is not (SafetensorsDType.F32 or SafetensorsDType.BF16 or SafetensorsDType.F16))
                problems.Add($"{held.File.Path}: tensor '{name}' has dtype {held.Info.DType}, expected F32, BF16 or F16");
        }
        var names = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, held) in _byName)
        {
            if (!names.Contains(name) && !IsIgnorable(name, tied))
                problems.Add($"{held.File.Path}: tensor '{name}' is unexpected for this config");
        }
        if (problems.Count == 0) return;
        var shown = problems.Take(MaxReportedProblems).ToList();
        if (problems.Count > shown.Count) shown.Add($"and {problems.Count - shown.Count} more");
        throw new InvalidDataException(string.Join("; ", shown));
    }

    /// <summary>Copies the checked weights into <paramref name="model"/>, converted to its dtype, one tensor at a time.</summary>
    public void LoadInto(LlamaForCausalLM model)
    {
        var targets = model.state_dict();
        Check(targets.Select(kv => (kv.Key, kv.Value.shape)).ToList(), model.Config.TieWordEmbeddings);
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            using var scope = NewDisposeScope();
            var (file, _) = _byName[name];
            target.copy_(file.Load(name, target.dtype, target.device));
        }
    }

    /// <summary>Buffers Hugging Face rebuilds rather than loads, and the copy of a tied lm_head some exporters store.</summary>
    internal static bool IsIgnorable(string name, bool tied) =>
        name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (tied && name == "lm_head.weight");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
