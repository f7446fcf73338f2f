using System.Text.Json.Nodes;
using Distill.Generation;
using Distill.Models;
using Distill.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Serving;

public sealed class OpenAiServerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private int[] PromptIds(string user) =>
        f.Engine.Chat.Encode(f.Engine.Chat.Render([new ChatMessage("user", user)], addGenerationPrompt: true)).Ids;

    // The model's own log-softmax over prompt + continuation, fp32: row t predicts token t + 1. [T-1, V]
    private static float[][] LogSoftmax(LlamaForCausalLM model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.Forward(new CausalLMInput { InputIds = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0) }).Logits!;
        var rows = logits[0].log_softmax(-1);
        return Enumerable.Range(0, ids.Length - 1).Select(t => rows[t].data<float>().ToArray()).ToArray();
    }

    [Fact]
    public async Task Models_Should_List_The_Served_Model()
    {
        var body = JsonNode.Parse(await f.Http.GetStringAsync("models"))!;

        Assert.Equal("list", (string?)body["object"]);
        Assert.Equal(ServerFixture.Name, (string?)body["data"]![0]!["id"]);
    }

    [Fact]
    public async Task Greedy_Chat_Should_Equal_Greedy_Generate()
    {
        using var model = f.Tiny.Load();
        var expected = Greedy.Generate(model, PromptIds("Hello Pong"), 9, f.Engine.StopIds);

        var (status, body) = await f.Post("chat/completions", ServerFixture.Chat("Hello Pong", maxTokens: 9));

        Assert.Equal(200, status);
        var choice = body!["choices"]![0]!;
        Assert.Equal(f.Engine.Chat.Tokenizer.Decode(expected.Tokens, skipSpecialTokens: true), (string?)choice["message"]!["content"]);
        Assert.Equal(expected.Tokens.Length, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(expected.StoppedAtEos ? "stop" : "length", (string?)choice["finish_reason"]);
    }

    [Fact]
    public async Task Chat_Logprobs_Should_Equal_The_Models_Log_Softmax()
    {
        using var model = f.Tiny.Load();
        var prompt = PromptIds("Ping");
        var request = ServerFixture.Chat("Ping", temperature: 1, maxTokens: 6);
        request["seed"] = 5;
        request["logprobs"] = true;
        request["top_logprobs"] = 3;

        var (status, body) = await f.Post("chat/completions", request);

        Assert.Equal(200, status);
        var content = body!["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.Equal((int)body["usage"]!["completion_tokens"]!, content.Count);
        Assert.NotEmpty(content);
        // Recover the sampled ids from the engine with the same seed (same tokens, batched or not).
        var again = await f.Engine.SubmitAsync(new Distill.Serving.EngineRequest { Prompt = prompt, MaxTokens = 6, Seed = 5 });
        var tokens = again.Choices[0].Tokens;
        var rows = LogSoftmax(model, [.. prompt, .. tokens]);
        for (var t = 0; t < tokens.Length; t++)
        {
            var row = rows[prompt.Length - 1 + t];
            Assert.Equal(row[tokens[t]], (float)content[t]!["logprob"]!, 1e-4f);
            var top = content[t]!["top_logprobs"]!.AsArray();
            Assert.Equal(3, top.Count);
            Assert.Equal(row.Max(), (float)top[0]!["logprob"]!, 1e-4f);
            Assert.Equal(f.Engine.Chat.Tokenizer.Decode([tokens[t]]), (string?)content[t]!["token"]);
        }
    }

    [Fact]
    public async Task Completions_Echo_Should_Score_Every_Prompt_Token_With_The_Models_Log_Softmax()
    {
        using var model = f.Tiny.Load();
        int[] ids = [5, 72, 101, 300, 12, 400, 7];
        var request = new JsonObject
        {
            ["prompt"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]), ["max_tokens"] = 0, ["echo"] = true, ["logprobs"] = 2,
        };

        var (status, body) = await f.Post("completions", request);

        Assert.Equal(200, status);
        var logprobs = body!["choices"]![0]!["logprobs"]!;
        var values = logprobs["token_logprobs"]!.AsArray();
        Assert.Equal(ids.Length, values.Count);
        Assert.Null(values[0]);
        var rows = LogSoftmax(model, ids);
        for (var t = 1; t < ids.Length; t++) Assert.Equal(rows[t - 1][ids[t]], (float)values[t]!, 1e-4f);
        Assert.Equal(2, logprobs["top_logprobs"]![1]!.AsObject().Count);
        Assert.Equal(ids.Length, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(0, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Concurrent_Requests_Should_Share_Batches_And_Sample_What_They_Sample_Alone()
    {
        JsonObject Request(int i)
        {
            var r = ServerFixture.Chat(i % 2 == 0 ? "Hello" : "a bc xyz Ping", temperature: 0.8, maxTokens: 7);
            r["seed"] = 100 + i;
            r["n"] = 1 + i % 2;
            return r;
        }
        var alone = new List<string>();
        for (var i = 0; i < 6; i++) alone.Add(Texts((await f.Post("chat/completions", Request(i))).Body!));
        var before = f.Engine.BatchStatistics;

        var together = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => f.Post("chat/completions", Request(i))));

        var after = f.Engine.BatchStatistics;
        Assert.All(together, r => Assert.Equal(200, r.Status));
        Assert.Equal(alone, together.Select(r => Texts(r.Body!)));
        Assert.Equal(9, after.Rows - before.Rows);
        Assert.True(after.Batches - before.Batches < 6, $"{after.Batches - before.Batches} batches for 6 concurrent requests");
    }

    private static string Texts(JsonNode body) =>
        string.Join("|", body["choices"]!.AsArray().Select(c => (string?)c!["message"]!["content"]));

    [Fact]
    public async Task Stream_Should_Send_The_Same_Text_As_Chunks_Ending_With_Done()
    {
        var request = ServerFixture.Chat("Hello Pong", temperature: 1, maxTokens: 10);
        request["seed"] = 3;
        var whole = (string?)(await f.Post("chat/completions", request)).Body!["choices"]![0]!["message"]!["content"];
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };

        using var content = new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await f.Http.PostAsync("chat/completions", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        var streamed = string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => (string?)c!["delta"]!["content"] ?? ""));
        Assert.Equal(whole, streamed);
        Assert.NotNull(chunks.SelectMany(c => c["choices"]!.AsArray()).Last()!["finish_reason"]);
        Assert.NotNull(chunks[^1]["usage"]);
    }

    [Fact]
    public async Task Engine_Should_Report_Each_Choices_Tokens_As_Sampled_In_Order()
    {
        var heard = new System.Collections.Concurrent.ConcurrentQueue<(int Choice, int Token)>();
        var request = new Distill.Serving.EngineRequest { Prompt = PromptIds("Hello"), N = 3, MaxTokens = 9, Seed = 4 };

        var result = await f.Engine.SubmitAsync(request, (c, t) => heard.Enqueue((c, t)));

        for (var c = 0; c < 3; c++)
            Assert.Equal(result.Choices[c].Tokens, heard.Where(h => h.Choice == c).Select(h => h.Token));
    }

    [Fact]
    public async Task Stream_With_Logprobs_Should_Carry_One_Entry_Per_Token()
    {
        var request = ServerFixture.Chat("Ping", temperature: 1, maxTokens: 7);
        request["seed"] = 11;
        request["stream"] = true;
        request["logprobs"] = true;
        request["top_logprobs"] = 2;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };

        using var content = new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await f.Http.PostAsync("chat/completions", content);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonNode.Parse(e)!).ToList();
        var entries = chunks.SelectMany(c => c["choices"]!.AsArray()).Where(c => c!["logprobs"] is not null)
            .SelectMany(c => c!["logprobs"]!["content"]!.AsArray()).ToList();
        Assert.Equal((int)chunks[^1]["usage"]!["completion_tokens"]!, entries.Count);
        Assert.All(entries, e => Assert.Equal(2, e!["top_logprobs"]!.AsArray().Count));
    }

    [Theory]
    [InlineData("{not json", 400, null)]
    [InlineData("[1, 2]", 400, null)]
    [InlineData("""{"messages": []}""", 400, "messages")]
    [InlineData("""{"messages": [{"role": "wizard", "content": "x"}]}""", 400, "messages[0].role")]
    [InlineData("""{"messages": [{"role": "user"}]}""", 400, "messages[0].content")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "n": 0}""", 400, "n")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "temperature": 5}""", 400, "temperature")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}""", 400, "temperature")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "top_p": 0}""", 400, "top_p")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}""", 400, "max_tokens")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "max_tokens": 100000}""", 400, "messages")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21}""", 400, "top_logprobs")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}""", 400, "top_logprobs")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "stop": 3}""", 400, "stop")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "tools": []}""", 400, "tools")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}], "model": "gpt-9"}""", 404, "model")]
    public async Task Bad_Chat_Requests_Should_Get_An_OpenAI_Error_Object(string body, int status, string? param)
    {
        var (actual, json) = await f.Post("chat/completions", body);

        Assert.Equal(status, actual);
        var error = json!["error"]!.AsObject();
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.True(error.ContainsKey("code"));
    }

    [Theory]
    [InlineData("""{"max_tokens": 1}""", "prompt")]
    [InlineData("""{"prompt": {"a": 1}}""", "prompt")]
    [InlineData("""{"prompt": [1, 99999]}""", "prompt")]
    [InlineData("""{"prompt": "Hello", "logprobs": 30}""", "logprobs")]
    [InlineData("""{"prompt": "Hello", "stream": true}""", "stream")]
    public async Task Bad_Completion_Requests_Should_Get_A_400(string body, string param)
    {
        var (status, json) = await f.Post("completions", body);

        Assert.Equal(400, status);
        Assert.Equal(param, (string?)json!["error"]!["param"]);
    }

    [Fact]
    public async Task A_Non_Json_Body_And_Bad_Requests_Among_Good_Ones_Should_Get_4xx_Without_Holding_Up_The_Rest()
    {
        using var text = new StringContent("hello", System.Text.Encoding.UTF8, "text/plain");
        using var plain = await f.Http.PostAsync("chat/completions", text);
        var mixed = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? f.Post("chat/completions", ServerFixture.Chat("Hello", maxTokens: 3))
            : f.Post("chat/completions", """{"messages": [{"role": "user", "content": "x"}], "n": -1}""")));

        Assert.Equal(400, (int)plain.StatusCode);
        Assert.Equal([200, 400, 200, 400, 200, 400, 200, 400], mixed.Select(m => m.Status));
    }

    [Fact]
    public async Task Unknown_Paths_And_Methods_Should_Get_Error_Objects()
    {
        using var missing = await f.Http.GetAsync("nothing-here");
        using var method = await f.Http.GetAsync("chat/completions");

        Assert.Equal(404, (int)missing.StatusCode);
        Assert.NotNull(JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["error"]);
        Assert.Equal(405, (int)method.StatusCode);
        Assert.NotNull(JsonNode.Parse(await method.Content.ReadAsStringAsync())!["error"]);
    }

    [Fact]
    public async Task Stop_Strings_Should_Cut_The_Text_Before_Them()
    {
        var request = ServerFixture.Chat("Hello Pong", temperature: 1, maxTokens: 20);
        request["seed"] = 9;
        var whole = (string)(await f.Post("chat/completions", request)).Body!["choices"]![0]!["message"]!["content"]!;
        Assert.True(whole.Length >= 4, whole);
        var stop = whole.Substring(2, 2);
        request["stop"] = new JsonArray(stop);

        var (status, body) = await f.Post("chat/completions", request);

        Assert.Equal(200, status);
        Assert.Equal(whole[..whole.IndexOf(stop, StringComparison.Ordinal)], (string?)body!["choices"]![0]!["message"]!["content"]);
        Assert.Equal("stop", (string?)body["choices"]![0]!["finish_reason"]);
    }
}
