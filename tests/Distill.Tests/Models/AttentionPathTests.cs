using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

/// <summary>
/// The written-out attention that bf16 models run (<see cref="LlamaAttention.Explicit"/>) against libtorch's fused
/// scaled_dot_product_attention with the kv heads repeated, the path fp32 models run: values and gradients.
/// </summary>
public class AttentionPathTests
{
    private const int Heads = 4, KvHeads = 2, HeadDim = 8;

    public enum MaskKind { Causal, Padded, Cached }

    [Theory]
    [InlineData(MaskKind.Causal)]
    [InlineData(MaskKind.Padded)]
    [InlineData(MaskKind.Cached)]
    public void Explicit_Attention_Equals_The_Fused_Kernel_In_Fp32_With_Gradients(MaskKind kind)
    {
        using var scope = NewDisposeScope();
        var (explicitOut, explicitGrads) = Run(kind, ScalarType.Float32, (attention, q, k, v, mask) => attention.Explicit(q, k, v, mask, 0.0));
        var (fusedOut, fusedGrads) = Run(kind, ScalarType.Float32, Fused);

        AssertClose(fusedOut, explicitOut, 1e-5);
        for (var i = 0; i < 3; i++) AssertClose(fusedGrads[i], explicitGrads[i], 1e-5);
    }

    [Fact]
    public void Explicit_Attention_In_Bf16_Tracks_The_Fp32_Kernel()
    {
        using var scope = NewDisposeScope();
        var (low, _) = Run(MaskKind.Padded, ScalarType.BFloat16, (attention, q, k, v, mask) => attention.Explicit(q, k, v, mask, 0.0));
        var (reference, _) = Run(MaskKind.Padded, ScalarType.Float32, Fused);

        Assert.Equal(ScalarType.BFloat16, low.dtype);
        AssertClose(reference, low.to_type(ScalarType.Float32), 0.03);
    }

    // libtorch's kernel on repeated kv heads: query head h reads kv head h / group.
    private static Tensor Fused(LlamaAttention attention, Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        var (kr, vr) = (k.repeat_interleave(Heads / KvHeads, dim: 1), v.repeat_interleave(Heads / KvHeads, dim: 1));
        return mask is null
            ? nn.functional.scaled_dot_product_attention(q, kr, vr, null, 0.0, is_casual: true)
            : nn.functional.scaled_dot_product_attention(q, kr, vr, mask, 0.0, is_casual: false);
    }

    // Same random q [2, H, 5, D], k/v [2, KV, S, D] each call; returns the output and the gradients of Σ output·w.
    private static (Tensor Output, Tensor[] Grads) Run(MaskKind kind, ScalarType dtype,
        Func<LlamaAttention, Tensor, Tensor, Tensor, Tensor?, Tensor> attend)
    {
        var config = TinyModels.Config(TinyModels.ConfigJson(kvHeads: KvHeads));
        using var attention = new LlamaAttention(config, CPU, dtype);
        var generator = new Generator(11);
        const long batch = 2, queries = 5;
        var keys = kind == MaskKind.Cached ? 9L : queries;
        Tensor Leaf(long heads, long length) => randn(new[] { batch, heads, length, (long)HeadDim }, generator: generator).to_type(dtype).requires_grad_(true);
        var (q, k, v) = (Leaf(Heads, queries), Leaf(KvHeads, keys), Leaf(KvHeads, keys));
        var weights = randn(new[] { batch, (long)Heads, queries, (long)HeadDim }, generator: generator);
        var padding = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, new long[] { batch, 9 });
        var mask = kind switch
        {
            MaskKind.Causal => null,
            MaskKind.Padded => AttentionMasks.Build(padding.narrow(1, 0, queries), queries, null, CPU),
            _ => AttentionMasks.Cached(keys - queries, queries, null, CPU, padding),
        };
        var output = attend(attention, q, k, v, mask);
        (output.to_type(ScalarType.Float32) * weights).sum().backward();
        return (output.detach(), new[] { q.grad!, k.grad!, v.grad! });
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected.to_type(ScalarType.Float32) - actual.to_type(ScalarType.Float32)).abs().max().item<float>();
        Assert.True(difference <= tolerance, $"max |difference| {difference} > {tolerance}");
    }
}
