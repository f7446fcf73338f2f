using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Cli;

/// <summary>The JSON the commands print or leave beside their output: snake_case keys, as Hugging Face's files and the cache manifest spell them.</summary>
internal static class CliJson
{
    /// <summary>Indented, for people as much as for programs (<c>eval --json</c>).</summary>
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary><c>inspect --json</c>: absent facts left out; token texts like "&lt;s&gt;" stay readable.</summary>
    public static readonly JsonSerializerOptions Summary = new(Indented)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Resolved settings (<see cref="ResolvedSettings"/>): enums by name.</summary>
    public static readonly JsonSerializerOptions Settings = new(Indented)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
