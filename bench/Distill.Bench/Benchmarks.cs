using System.Text.Json.Nodes;

namespace Distill.Bench;

/// <summary>The registry of named benchmarks; each receives the peak figures measured in the same run.</summary>
internal static class Benchmarks
{
    public static readonly (string Name, Func<JsonObject, JsonNode> Run)[] All =
    [
        ("forward", ForwardThroughput.Run),
        ("topk", TopKOverhead.Run),
        ("tokenize", TokenizeThroughput.Run),
        ("cache", CacheFootprint.Run),
    ];
}
