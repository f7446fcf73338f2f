using System.Text.Json.Serialization;

namespace Distill.LogitCache;

/// <summary>Identifies the teacher whose logits a cache holds, so a cache is never used with the wrong teacher.</summary>
/// <param name="ConfigFingerprint">Hash of the teacher's config.json, e.g. "sha256:…".</param>
/// <param name="WeightsFingerprint">Hash of the teacher's weights (or of their index), e.g. "sha256:…".</param>
/// <param name="VocabSize">The teacher's vocabulary size V (rows of its output projection).</param>
public sealed record TeacherFingerprint(
    [property: JsonPropertyName("config_fingerprint")] string ConfigFingerprint,
    [property: JsonPropertyName("weights_fingerprint")] string WeightsFingerprint,
    [property: JsonPropertyName("vocab_size")] int VocabSize);
