using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class RmsNormAndRopeTests
{
    [Fact]
    public void RmsNorm_Matches_A_Naive_Loop_In_Fp32()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 5, generator: new Generator(11));
        var w = randn(5, generator: new Generator(12));
        using var norm = new LlamaRMSNorm(5, 1e-5);
        using (no_grad()) norm.named_parameters().Single().parameter.copy_(w);

        var y = norm.forward(x).data<float>().ToArray();

        var xs = x.data<float>().ToArray();
        var ws = w.data<float>().ToArray();
        for (var r = 0; r < 3; r++)
        {
            double meanSquare = 0;
            for (var c = 0; c < 5; c++) meanSquare += (double)xs[r * 5 + c] * xs[r * 5 + c] / 5;
            for (var c = 0; c < 5; c++)
                Assert.Equal(ws[c] * xs[r * 5 + c] / Math.Sqrt(meanSquare + 1e-5), y[r * 5 + c], 1e-5);
        }
    }

    [Fact]
    public void RmsNorm_In_Bf16_Normalises_In_Fp32_Then_Casts_Before_The_Weight()
    {
        using var scope = NewDisposeScope();
        var x = (randn(3, 7, generator: new Generator(13)) * 40).to_type(ScalarType.BFloat16);
        var w = randn(7, generator: new Generator(14)).to_type(ScalarType.BFloat16);
        using var norm = new LlamaRMSNorm(7, 1e-6, dtype: ScalarType.BFloat16);
        using (no_grad()) norm.named_parameters().Single().parameter.copy_(w);

        var y = norm.forward(x).to_type(ScalarType.Float32).data<float>().ToArray();

        var xs = x.to_type(ScalarType.Float32).data<float>().ToArray();
        var ws = w.to_type(ScalarType.Float32).data<float>().ToArray();
        for (var r = 0; r < 3; r++)
        {
            double meanSquare = 0;
            for (var c = 0; c < 7; c++) meanSquare += (double)xs[r * 7 + c] * xs[r * 7 + c] / 7;
            for (var c = 0; c < 7; c++)
            {
                var normed = RoundToBf16((float)(xs[r * 7 + c] / Math.Sqrt(meanSquare + 1e-6)));
                var expected = RoundToBf16(ws[c] * normed);
                Assert.True(Math.Abs(expected - y[r * 7 + c]) <= Math.Abs(expected) / 128 + 1e-30, $"[{r},{c}] {expected} vs {y[r * 7 + c]}");
            }
        }
    }

    private static float RoundToBf16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000;
        return BitConverter.UInt32BitsToSingle(rounded);
    }

    [Fact]
    public void Inverse_Frequencies_Are_Theta_To_The_Minus_2i_Over_D()
    {
        using var inv = LlamaRotaryEmbedding.InverseFrequencies(8, 10000.0, null);
        var actual = inv.data<float>().ToArray();
        Assert.Equal(4, actual.Length);
        for (var i = 0; i < 4; i++)
            Assert.Equal(1.0 / Math.Pow(10000.0, 2.0 * i / 8), actual[i], 1e-6 * Math.Max(1, actual[i]));
    }

    [Fact]
    public void Llama3_Scaling_Keeps_High_Divides_Low_And_Smooths_Medium_Frequencies()
    {
        var scaling = new RopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 64 };
        using var inv = LlamaRotaryEmbedding.InverseFrequencies(16, 500000.0, scaling);
        var actual = inv.data<float>().ToArray();

        // Wavelengths 2π/θ^(-i/8): i=0 is shorter than 64/4 (kept), i=1 lies between 16 and 64 (smoothed), i≥2 are longer than 64 (divided by 8).
        var kinds = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var baseFreq = 1.0 / Math.Pow(500000.0, 2.0 * i / 16);
            var wavelen = 2 * Math.PI / baseFreq;
            double expected;
            if (wavelen < 64.0 / 4) { expected = baseFreq; kinds.Add("high"); }
            else if (wavelen > 64.0 / 1) { expected = baseFreq / 8; kinds.Add("low"); }
            else
            {
                var smooth = (64.0 / wavelen - 1) / (4 - 1);
                expected = (1 - smooth) * baseFreq / 8 + smooth * baseFreq;
                kinds.Add("medium");
            }
            Assert.True(Math.Abs(expected - actual[i]) <= 2e-6 * expected, $"i={i}: {expected} vs {actual[i]}");
        }
        Assert.Equal(["high", "medium", "low", "low", "low", "low", "low", "low"], kinds);
    }

    [Fact]
    public void Linear_Scaling_Divides_Every_Frequency()
    {
        using var inv = LlamaRotaryEmbedding.InverseFrequencies(6, 10000.0, new RopeScaling { Type = "linear", Factor = 4 });
        var actual = inv.data<float>().ToArray();
        for (var i = 0; i < 3; i++)
            Assert.Equal(1.0 / Math.Pow(10000.0, 2.0 * i / 6) / 4, actual[i], 1e-6);
    }

    [Fact]
    public void Rope_Rotates_Dim_j_With_Dim_j_Plus_Half_By_Position_Times_Frequency()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Config(TinyModels.ConfigJson()); // head_dim 8, theta 10000
        using var rope = new LlamaRotaryEmbedding(config);
        var positions = tensor(new long[] { 0, 5, 11 }).unsqueeze(0); // [1, 3]
        var x = randn(new long[] { 1, 2, 3, 8 }, generator: new Generator(21)); // [B, H, T, D]

        var (cos, sin) = rope.forward(positions, ScalarType.Float32);
        var y = LlamaRotaryEmbedding.Apply(x, cos, sin).data<float>().ToArray();

        var xs = x.data<float>().ToArray();
        long[] pos = [0, 5, 11];
        for (var h = 0; h < 2; h++)
            for (var t = 0; t < 3; t++)
                for (var j = 0; j < 4; j++)
                {
                    var angle = pos[t] / Math.Pow(10000.0, 2.0 * j / 8);
                    var at = (h * 3 + t) * 8;
                    var (a, b) = (xs[at + j], xs[at + j + 4]);
                    Assert.Equal(a * Math.Cos(angle) - b * Math.Sin(angle), y[at + j], 1e-5);
                    Assert.Equal(b * Math.Cos(angle) + a * Math.Sin(angle), y[at + j + 4], 1e-5);
                }
    }

    [Fact]
    public void Rope_Gradient_Is_The_Inverse_Rotation()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Config(TinyModels.ConfigJson());
        using var rope = new LlamaRotaryEmbedding(config);
        var (cos, sin) = rope.forward(tensor(new long[] { 3 }).unsqueeze(0), ScalarType.Float32);
        var x = randn(new long[] { 1, 1, 1, 8 }, generator: new Generator(22)).requires_grad_(true);
        var upstream = randn(new long[] { 1, 1, 1, 8 }, generator: new Generator(23));

        (LlamaRotaryEmbedding.Apply(x, cos, sin) * upstream).sum().backward();

        var g = upstream.data<float>().ToArray();
        var grad = x.grad!.data<float>().ToArray();
        for (var j = 0; j < 4; j++)
        {
            var angle = 3 / Math.Pow(10000.0, 2.0 * j / 8);
            Assert.Equal(g[j] * Math.Cos(angle) + g[j + 4] * Math.Sin(angle), grad[j], 1e-5);
            Assert.Equal(-g[j] * Math.Sin(angle) + g[j + 4] * Math.Cos(angle), grad[j + 4], 1e-5);
        }
    }

    [Fact]
    public void Rotary_Module_Takes_Theta_And_Llama3_Scaling_From_The_Config()
    {
        var json = TinyModels.ConfigJson();
        json["rope_theta"] = 500000.0;
        json["rope_scaling"] = System.Text.Json.Nodes.JsonNode.Parse("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}""");
        using var rope = new LlamaRotaryEmbedding(TinyModels.Config(json));

        using var actual = rope.InverseFrequencies();

        // head_dim 8: wavelengths 2π·500000^(i/4) ≈ 6.3, 168, 4443, 117000; old context 16 keeps wavelengths < 4,
        // divides those > 16 by 8, and blends i=0 (6.3 lies between) with smooth = (16/2π − 1)/(4 − 1).
        var smooth = (16 / (2 * Math.PI) - 1) / 3;
        double[] expected = [(1 - smooth) / 8 + smooth, Math.Pow(500000.0, -0.25) / 8, Math.Pow(500000.0, -0.5) / 8, Math.Pow(500000.0, -0.75) / 8];
        var values = actual.data<float>().ToArray();
        for (var i = 0; i < 4; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= 2e-6 * expected[i], $"i={i}: {expected[i]} vs {values[i]}");
    }
}
