using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>Identifies the teacher whose logits a cache holds, so a cache is never used with the wrong teacher.</summary>
/// <param name="ConfigFingerprint">Hash of the teacher's config.json, e.g. "sha256:…"; for a served teacher "served:" + its model.</param>
/// <param name="WeightsFingerprint">Hash of the teacher's weights (or of their index), e.g. "sha256:…"; for a served teacher
/// "served:" + its model (its weights are not here to hash).</param>
/// <param name="VocabSize">The teacher's vocabulary size V (rows of its output projection); for a served teacher the student's,
/// whose ids the server's tokens were mapped to.</param>
/// <param name="Server">The server a black-box cache was scored by; absent for a local teacher.</param>
public sealed record TeacherFingerprint(
    [property: JsonPropertyName("config_fingerprint")] string ConfigFingerprint,
    [property: JsonPropertyName("weights_fingerprint")] string WeightsFingerprint,
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("server")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    ServedTeacher? Server = null)
{
    /// <summary>What makes the stored values what they are: the server's address is informational (the same model behind
    /// another address is the same teacher).</summary>
    [JsonIgnore]
    public TeacherFingerprint Identity => Server is null ? this : this with { Server = Server with { Url = "" } };

    /// <summary>The fingerprint of a served teacher: its model, the student's vocabulary, and how it was asked.</summary>
    public static TeacherFingerprint Served(string url, string model, int vocabSize, string endpoint, string request) =>
        new("served:" + model, "served:" + model, vocabSize, new ServedTeacher(url, model, endpoint, request));
}

/// <summary>An OpenAI-compatible server as the teacher of a black-box cache (docs/FORMAT.md, <c>teacher.server</c>).</summary>
/// <param name="Url">The server's address as given (informational).</param>
/// <param name="Model">The model it was asked for.</param>
/// <param name="Endpoint">"/v1/completions" (given text scored with echo) or "/v1/chat/completions" (generated text).</param>
/// <param name="Request">The request's parameters besides the prompt, as compact JSON (e.g. K as logprobs).</param>
public sealed record ServedTeacher(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("request")] string Request);
