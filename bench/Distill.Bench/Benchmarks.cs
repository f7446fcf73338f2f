using System.Text.Json.Nodes;

namespace Distill.Bench;

/// <summary>The registry of named benchmarks; each receives the peak figures measured in the same run.</summary>
internal static class Benchmarks
{
    public static readonly (string Name, Func<JsonObject, JsonNode> Run)[] All =
    [
        ("forward", ForwardThroughput.Run),
        ("tokenize", TokenizeThroughput.Run),
        ("cache", CacheFootprint.Run),
        ("topk", TopKOverhead.Run),
        ("train", TrainThroughput.Run),
        ("train_pieces", TrainPieces.Run),
        ("train_memory", TrainMemory.Run),
        ("train_scaling", TrainScaling.Run),
        ("decode", DecodeThroughput.Run),
        ("online", OnlineTraining.Run),
        ("serve", ServeThroughput.Run),
        ("served_scoring", ServedScoring.Run),
        ("peer", PythonPeer.Run),
        ("threads", ThreadCount.Run),
    ];
}
