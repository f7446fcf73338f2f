using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Rotary position embedding in Hugging Face's rotate_half convention: the head is split in two halves
/// that rotate together, frequency i applying to dims i and i + D/2. Owns the fp32 inverse frequencies
/// as a non-persistent buffer (moved with the module, never in the state dict, as in Hugging Face) and
/// computes cos/sin for the given positions in fp32 before casting, exactly as Hugging Face does, so no
/// table bounds the context length.
/// </summary>
public sealed class LlamaRotaryEmbedding : nn.Module<Tensor, ScalarType, (Tensor Cos, Tensor Sin)>
{
    private readonly Tensor inv_freq; // [D/2] fp32, after any rope_scaling

    /// <summary>Builds the inverse frequencies for <paramref name="config"/>'s head width, theta and scaling.</summary>
    public LlamaRotaryEmbedding(LlamaConfig config, Device? device = null) : base(nameof(LlamaRotaryEmbedding))
    {
        inv_freq = InverseFrequencies(config.HeadDimension, config.EffectiveRopeTheta, config.EffectiveRopeScaling, device);
        register_buffer(nameof(inv_freq), inv_freq, persistent: false);
        RegisterComponents();
    }

    /// <summary>A copy of the [D/2] fp32 inverse frequencies.</summary>
    public Tensor InverseFrequencies() => inv_freq.clone();

    /// <summary>1 / theta^(2i/D) for i in [0, D/2), then scaled as <paramref name="scaling"/> says. [D/2] fp32.</summary>
    public static Tensor InverseFrequencies(int headDim, double theta, RopeScaling? scaling, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var exponents = arange(0, headDim, 2, dtype: ScalarType.Int64, device: device).to_type(ScalarType.Float32) / headDim;
        var invFreq = 1.0 / full_like(exponents, theta).pow(exponents);
        invFreq = scaling?.Kind switch
        {
            null or "default" => invFreq,
            "linear" => invFreq / scaling.Factor!.Value,
            "llama3" => Llama3Scale(invFreq, scaling),
            var kind => throw new NotSupportedException($"rope scaling '{kind}' is not supported"),
        };
        return invFreq.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Llama 3.1 frequency scaling: wavelengths above old_len/low_freq_factor are divided by factor,
    /// those below old_len/high_freq_factor kept, and the band between interpolated smoothly.
    /// </summary>
    private static Tensor Llama3Scale(Tensor invFreq, RopeScaling s)
    {
        var factor = s.Factor!.Value;
        var low = s.LowFreqFactor!.Value;
        var high = s.HighFreqFactor!.Value;
        double oldContext = s.OriginalMaxPositionEmbeddings!.Value;
        var lowFreqWavelen = oldContext / low;
        var highFreqWavelen = oldContext / high;
        var wavelen = 2 * Math.PI / invFreq;
        var scaled = where(wavelen > lowFreqWavelen, invFreq / factor, invFreq);
        var smooth = (oldContext / wavelen - low) / (high - low);
        var smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
        var medium = (wavelen >= highFreqWavelen).logical_and(wavelen <= lowFreqWavelen);
        return where(medium, smoothed, scaled);
    }

    /// <summary>cos and sin for <paramref name="positionIds"/> [B, T], each [B, T, D] in <paramref name="dtype"/>.</summary>
    public override (Tensor Cos, Tensor Sin) forward(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var freqs = positionIds.to_type(ScalarType.Float32).unsqueeze(-1) * inv_freq.to(ScalarType.Float32, positionIds.device); // [B, T, D/2]
        var angles = cat(new[] { freqs, freqs }, -1); // [B, T, D]
        var cos = angles.cos().to_type(dtype);
        var sin = angles.sin().to_type(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>x·cos + rotate_half(x)·sin for x [B, H, T, D] and cos/sin [B, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, half)];
        var x2 = x[TensorIndex.Ellipsis, TensorIndex.Slice(half)];
        var rotated = cat(new[] { -x2, x1 }, -1);
        return (x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)).MoveToOuterDisposeScope();
    }
}
