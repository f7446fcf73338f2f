using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Models;

/// <summary>
/// Reads a special-token id that Hugging Face configs write either as one integer
/// (<c>"eos_token_id": 2</c>) or as a list (<c>"eos_token_id": [128001, 128009]</c>).
/// </summary>
public sealed class TokenIdsJsonConverter : JsonConverter<IReadOnlyList<int>>
{
    /// <inheritdoc />
    public override bool HandleNull => false;

    /// <inheritdoc />
    public override IReadOnlyList<int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
            return [reader.GetInt32()];
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected a token id or a list of token ids");
        var ids = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
                throw new JsonException("expected a token id or a list of token ids");
            ids.Add(reader.GetInt32());
        }
        return ids;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<int> value, JsonSerializerOptions options)
    {
        if (value.Count == 1)
        {
            writer.WriteNumberValue(value[0]);
            return;
        }
        writer.WriteStartArray();
        foreach (var id in value) writer.WriteNumberValue(id);
        writer.WriteEndArray();
    }
}
