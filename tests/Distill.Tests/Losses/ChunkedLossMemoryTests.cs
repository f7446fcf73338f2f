using System.Globalization;
using System.Runtime.InteropServices;
using Distill.Losses;
using static Distill.Tests.Losses.LossTestData;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>
/// The chunk loop's memory: what one chunked backward adds to the process's peak resident size (Linux VmHWM, reset
/// through /proc/self/clear_refs after returning freed memory with malloc_trim). Tests run one at a time
/// (AssemblyInfo), so nothing else allocates meanwhile.
/// </summary>
public sealed partial class ChunkedLossMemoryTests
{
    // W is [V, H] fp32 = 58.6 MiB, a chunk's logits [8 × V] fp32 = 1.8 MiB: a loop that materialises a gradient of W
    // per chunk (autograd's matmul backward does) must touch at least one more W-sized block; a loop that adds into
    // W.grad in place needs a few chunk-sized blocks (logits, softmax, gradient: about 4 × 1.8 MiB).
    private const int N = 48, V = 60000, H = 256, K = 4, Chunk = 8;

    [Fact]
    public void A_Chunked_Backward_Should_Not_Materialise_A_Gradient_Of_The_Output_Weight_Per_Chunk()
    {
        if (!File.Exists("/proc/self/clear_refs")) return;
        using var scope = NewDisposeScope();
        var g = new Generator(91);
        var (ids, t, lse) = TopK(RandomRows(90, N, 50), K);
        var teacher = TeacherSignal.TopK(ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32));
        var targets = new LossTargets(randint(0, V, [N], dtype: ScalarType.Int64, generator: g), ones(N), teacher);
        var objective = new KdObjective(KdLossKind.FwdKl, SftWeight: 0.4);
        var hidden = randn([N, H], generator: g);
        var weight = randn([V, H], generator: g).requires_grad_(true);
        ChunkedLoss.Backward(hidden, weight, targets, objective, Chunk, N);         // makes W.grad and one-off buffers

        long baseline = ResetPeak();
        ChunkedLoss.Backward(hidden, weight, targets, objective, Chunk, N);
        long rise = PeakBytes() - baseline;

        long weightBytes = (long)V * H * sizeof(float);
        Assert.True(rise < weightBytes / 2, $"the chunked backward raised the peak by {rise >> 20} MiB; W is {weightBytes >> 20} MiB");
    }

    // One chunk of all rows, so the rise is what a chunk holds: its logits are overwritten by the fp32 working block
    // (fp32) or hold its bf16 copy, so one fp32 [rows × V] block in fp32 and one and a half in bf16, where the logits,
    // a separate exp(s − m) and (in bf16) an fp32 copy and a bf16 gradient made two and three.
    [Theory]
    [InlineData(ScalarType.Float32, 1.4)]
    [InlineData(ScalarType.BFloat16, 1.9)]
    public void A_Chunk_Should_Hold_One_Fp32_Logits_Block_And_In_Bf16_Its_Bf16_Logits(ScalarType dtype, double blocks)
    {
        if (!File.Exists("/proc/self/clear_refs")) return;
        using var scope = NewDisposeScope();
        const int rows = 96, vocab = 60000, hidden = 32;
        var g = new Generator(92);
        var (ids, t, lse) = TopK(RandomRows(93, rows, 50), K);
        var teacher = TeacherSignal.TopK(ToTensor(ids), ToTensor(t), tensor(lse).to_type(ScalarType.Float32));
        var targets = new LossTargets(randint(0, vocab, [rows], dtype: ScalarType.Int64, generator: g), ones(rows), teacher);
        var objective = new KdObjective(KdLossKind.TailFwdKl, SftWeight: 0.4);
        var states = randn([rows, hidden], generator: g).to_type(dtype);
        var weight = randn([vocab, hidden], generator: g).to_type(dtype).requires_grad_(true);
        ChunkedLoss.Backward(states, weight, targets, objective, rows, rows);       // makes W.grad and one-off buffers

        long baseline = ResetPeak();
        ChunkedLoss.Backward(states, weight, targets, objective, rows, rows);
        long rise = PeakBytes() - baseline;

        long block = (long)rows * vocab * sizeof(float);
        Assert.True(rise < blocks * block, $"one chunk raised the peak by {rise / (double)block:F2} fp32 [rows × V] blocks");
    }

    private static long ResetPeak()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _ = malloc_trim(0);
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Status("VmRSS:");
    }

    private static long PeakBytes() => Status("VmHWM:");

    private static long Status(string key) => File.ReadLines("/proc/self/status")
        .Where(l => l.StartsWith(key, StringComparison.Ordinal))
        .Select(l => long.Parse(l[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024)
        .Single();

    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
