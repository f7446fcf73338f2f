using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Prints Distill's performance figures as one JSON object. Every run measures the machine's matmul
/// peak first, so throughputs are reported as fractions of it (a lone time on a shared machine means little).
/// Usage: dotnet run --project bench/Distill.Bench -c Release [-- name ...]
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var selected = new HashSet<string>(args, StringComparer.OrdinalIgnoreCase);
        bool Want(string name) => selected.Count == 0 || selected.Contains(name);

        // Before anything tunes the heap: it times the same steps with the C library's default heap, then tuned.
        JsonNode? allocator = Want("allocator") ? AllocatorEffect.Run() : null;
        bool heapKept = NativeHeap.KeepFreedMemory();

        var report = new JsonObject
        {
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["torch_threads"] = torch.get_num_threads(),
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["native_heap_kept"] = heapKept,
            },
        };
        var peak = new JsonObject
        {
            ["fp32_flops"] = MatmulPeak.Measure(ScalarType.Float32),
            ["bf16_flops"] = MatmulPeak.Measure(ScalarType.BFloat16),
        };
        report["matmul_peak"] = peak;
        if (allocator is not null) report["allocator"] = allocator;

        foreach (var (name, run) in Benchmarks.All)
        {
            if (!Want(name)) continue;
            Console.Error.WriteLine($"bench: {name} ...");
            report[name] = run(peak);
        }
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}
