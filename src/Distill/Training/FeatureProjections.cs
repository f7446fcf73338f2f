using Distill.Models;
using Distill.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The learned linear maps W·h + b (student width → teacher width) of the mapped layer pairs whose widths differ, trained
/// with the student (fp32, beside the masters), saved in each checkpoint as <see cref="FileName"/> and left out of the
/// final model folder. Pairs of equal width compare the states as they are.
/// </summary>
public sealed class FeatureProjections : IDisposable
{
    /// <summary>The checkpoint file of the projections.</summary>
    public const string FileName = "feature_projections.safetensors";

    private readonly (Parameter Weight, Parameter Bias)?[] _maps;

    private FeatureProjections((Parameter, Parameter)?[] maps, LayerMap map)
    {
        _maps = maps;
        Map = map;
    }

    /// <summary>The layer pairs, in the order of the projections.</summary>
    public LayerMap Map { get; }

    /// <summary>The trainable tensors: weights [Ht, Hs] then biases [Ht].</summary>
    public IEnumerable<Parameter> Parameters =>
        _maps.OfType<(Parameter Weight, Parameter Bias)>().Select(m => m.Weight).Concat(_maps.OfType<(Parameter Weight, Parameter Bias)>().Select(m => m.Bias));

    /// <summary>No projections: every pair compares its states as they are.</summary>
    public static FeatureProjections None(LayerMap map) => new(new (Parameter, Parameter)?[map.Pairs.Count], map);

    /// <summary>
    /// Projections for <paramref name="map"/>, drawn as torch's nn.Linear draws them (weights and biases uniform in
    /// ±1/√Hs) from a generator seeded with <paramref name="seed"/>, so a run starts from the same projections every time.
    /// </summary>
    public static FeatureProjections Create(LayerMap map, LlamaConfig student, LlamaConfig teacher, long seed, Device device)
    {
        var (hs, ht) = (student.HiddenSize, teacher.HiddenSize);
        if (hs == ht) return None(map);
        using var generator = new Generator(unchecked((ulong)seed));
        var bound = 1.0 / Math.Sqrt(hs);
        Parameter Draw(params long[] shape)
        {
            using var scope = NewDisposeScope();
            var values = (rand(shape, ScalarType.Float32, generator: generator) * (2 * bound) - bound).to(device);
            return new Parameter(values.DetachFromDisposeScope(), requires_grad: true);
        }
        return new FeatureProjections(map.Pairs.Select(_ => ((Parameter, Parameter)?)(Draw(ht, hs), Draw(ht))).ToArray(), map);
    }

    /// <summary>Clears the projections' gradients (the trainer's zero_grad covers the model only).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad?.zero_();
    }

    /// <summary>W·h + b of pair <paramref name="pair"/> in fp32, or <paramref name="states"/> as they are when the widths agree.</summary>
    public Tensor Project(int pair, Tensor states) =>
        _maps[pair] is { } m ? nn.functional.linear(states.to_type(ScalarType.Float32), m.Weight, m.Bias) : states;

    /// <summary>Writes the projections to <paramref name="dir"/>/<see cref="FileName"/> (nothing when there are none).</summary>
    public void Save(string dir)
    {
        var tensors = Named().ToArray();
        if (tensors.Length > 0) SafetensorsWriter.Write(Path.Combine(dir, FileName), tensors);
    }

    /// <summary>Reads the projections a checkpoint in <paramref name="dir"/> saved.</summary>
    /// <exception cref="InvalidDataException">The file is missing, or lacks a tensor or has another shape than this run's.</exception>
    public void Load(string dir)
    {
        var named = Named().ToArray();
        if (named.Length == 0) return;
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: missing; the checkpoint was not saved by a run with feature projections (layer map {Map})");
        using var file = SafetensorsFile.Open(path);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named)
        {
            if (!file.Contains(name)) throw new InvalidDataException($"{path}: no tensor '{name}' (this run's layer map is {Map})");
            using var saved = file.Load(name, ScalarType.Float32, parameter.device);
            if (!saved.shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"{path}: tensor '{name}' is [{string.Join(", ", saved.shape)}], this run needs [{string.Join(", ", parameter.shape)}]");
            parameter.copy_(saved);
        }
    }

    private IEnumerable<KeyValuePair<string, Tensor>> Named()
    {
        for (var i = 0; i < _maps.Length; i++)
        {
            if (_maps[i] is not { } m) continue;
            var (s, t) = Map.Pairs[i];
            yield return new($"layers.{s}.to_teacher.{t}.weight", m.Weight);
            yield return new($"layers.{s}.to_teacher.{t}.bias", m.Bias);
        }
    }

    /// <summary>Frees the projections.</summary>
    public void Dispose()
    {
        foreach (var p in Parameters) p.Dispose();
    }
}
