using System.Text.Json.Nodes;
using Distill.Losses;
using Distill.Synthetic;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// A teacher behind an OpenAI-compatible server (vLLM, SGLang, TGI, <c>distill serve</c>): for every example of a
/// micro-batch it asks <c>POST /v1/completions</c> to score the example's token ids as given (<c>echo</c> with
/// <c>logprobs</c> and <c>max_tokens: 0</c>), concurrently, with the retries of <see cref="RemoteChatTeacher"/>, and
/// answers with the log-probability of each target token — what <c>sampled_rkl</c> needs, so on-policy distillation
/// runs against a teacher whose weights are not here.
/// </summary>
public sealed class RemoteTeacher : ITeacher
{
    private readonly RemoteChatTeacher _server;

    private RemoteTeacher(RemoteChatTeacher server, string url)
    {
        _server = server;
        Name = $"{url} ({server.Name})";
    }

    /// <summary>Connects to <paramref name="url"/>; <paramref name="model"/> null asks /v1/models for it.</summary>
    /// <exception cref="InvalidDataException">The server cannot be reached or lists no model.</exception>
    public static RemoteTeacher Connect(string url, string? model, string apiKeyEnv = "OPENAI_API_KEY") =>
        new(RemoteChatTeacher.ConnectAsync(new GenerateOptions { TeacherUrl = url, Model = model, ApiKeyEnv = apiKeyEnv, Prompts = "", Output = "" },
            CancellationToken.None).GetAwaiter().GetResult(), url);

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">
    /// The server failed, cannot score given text, or scored another number of tokens than it was given (its
    /// tokenization is not the student's).
    /// </exception>
    public TeacherSignal Signal(MicroBatch batch)
    {
        var scored = Task.WhenAll(batch.Examples.Select(e => Score(e.InputIds))).GetAwaiter().GetResult();
        var rows = new List<float>();
        for (var b = 0; b < batch.Examples.Count; b++)
        {
            var e = batch.Examples[b];
            for (var j = 1; j < e.InputIds.Length; j++)
                if (e.LossMask[j] != 0) rows.Add(scored[b][j]);
        }
        return TeacherSignal.LabelLogProbs(tensor(rows.ToArray(), device: batch.Labels.device));
    }

    // The log-probability of every given token (index 0, which nothing predicts, is NaN).
    private async Task<float[]> Score(int[] ids)
    {
        var body = new JsonObject
        {
            ["prompt"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]), ["max_tokens"] = 0, ["echo"] = true, ["logprobs"] = 1, ["temperature"] = 0,
        };
        JsonNode answer;
        try
        {
            answer = await _server.PostAsync("completions", body, CancellationToken.None);
        }
        catch (TeacherFailedException e)
        {
            throw new InvalidDataException($"{Name}: scoring {ids.Length} given tokens failed: {e.Message}; the teacher must accept " +
                "token ids as the prompt with echo and logprobs on /v1/completions (vLLM and distill serve do)", e);
        }
        if (answer["choices"]?[0]?["logprobs"]?["token_logprobs"] is not JsonArray logprobs)
            throw new InvalidDataException($"{Name}: /v1/completions answered without logprobs.token_logprobs; it cannot score given text");
        if (logprobs.Count != ids.Length)
            throw new InvalidDataException($"{Name}: scored {logprobs.Count} tokens for the {ids.Length} it was given; the server's tokenization is not the student's");
        return [.. logprobs.Select(l => l is null ? float.NaN : (float)l.GetValue<double>())];
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => _server.Dispose();
}
