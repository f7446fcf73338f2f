using System.Threading.Channels;
using Distill.Evaluation;
using Distill.Generation;
using Distill.Models;
using Distill.Text.Conversations;
using static TorchSharp.torch;

namespace Distill.Serving;

/// <summary>
/// A loaded model answering <see cref="EngineRequest"/>s from any number of threads, with one thread of its own doing
/// all tensor work. Requests that arrive within <see cref="EngineOptions.BatchWindowMs"/> of each other (up to
/// <see cref="EngineOptions.MaxBatchRows"/> rows) and share temperature, top-p and token limit go to one
/// <see cref="Sampler.SampleWithSeeds"/> call; each keeps its
/// own seed stream, so its tokens do not depend on its batch-mates. Batching is static: a request that arrives while a
/// batch decodes waits for the next one. Log-probabilities come from teacher-forced forward passes over prompt and
/// continuation after sampling, the batch's rows padded together (<see cref="Scoring.ScoreRows"/>), with the model's
/// own log-softmax at temperature 1, as OpenAI and vLLM report them.
/// </summary>
public sealed class ServingEngine : IDisposable
{
    /// <summary>Largest <see cref="EngineRequest.N"/> accepted.</summary>
    public const int MaxN = 128;

    /// <summary>Largest <see cref="EngineRequest.TopLogprobs"/> accepted (OpenAI's and vLLM's default limit).</summary>
    public const int MaxTopLogprobs = 20;

    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _worker;
    private readonly EngineOptions _options;
    private readonly bool _ownsModel;

    /// <summary>An engine over a loaded model (put in eval mode) and its chat tokenizer.</summary>
    /// <param name="model">The model; all its tensor work happens on the engine's thread from now on.</param>
    /// <param name="chat">Its tokenizer and chat template.</param>
    /// <param name="modelName">The id clients see in <c>/v1/models</c>.</param>
    /// <param name="options">Batching settings.</param>
    /// <param name="ownsModel">Dispose the model with the engine.</param>
    public ServingEngine(LlamaForCausalLM model, ChatTokenizer chat, string modelName, EngineOptions? options = null, bool ownsModel = false)
    {
        Model = model;
        Chat = chat;
        ModelName = modelName;
        _options = options ?? new EngineOptions();
        _options.Validate();
        _ownsModel = ownsModel;
        model.eval();
        StopIds = GenerationEval.StopIds(model.Config, chat);
        _worker = new Thread(Work) { IsBackground = true, Name = "distill-serving" };
        _worker.Start();
    }

    /// <summary>The model.</summary>
    public LlamaForCausalLM Model { get; }

    /// <summary>Its tokenizer and chat template.</summary>
    public ChatTokenizer Chat { get; }

    /// <summary>The name clients use for the model (<c>"model"</c> in requests and responses).</summary>
    public string ModelName { get; }

    /// <summary>Ids that end a continuation: the model's EOS ids and the chat template's end-of-turn tokens.</summary>
    public IReadOnlyCollection<int> StopIds { get; }

    /// <summary>Batches run so far and rows in them (for benchmarks and tests of the batching).</summary>
    public (long Batches, long Rows) BatchStatistics => (Interlocked.Read(ref _batches), Interlocked.Read(ref _rows));

    private long _batches;
    private long _rows;

    /// <summary>Loads a Hugging Face folder and its tokenizer (or the built-in template <paramref name="chatFormat"/>).</summary>
    public static ServingEngine Load(string dir, Device device, ScalarType dtype, string? chatFormat = null, string? modelName = null,
        EngineOptions? options = null)
    {
        var chat = ChatTokenizer.Load(dir, chatFormat);
        var model = HfModelFolder.Load(dir, device, dtype);
        var name = modelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
        return new ServingEngine(model, chat, name, options, ownsModel: true);
    }

    /// <summary>Queues a request; the task completes when its batch is done.</summary>
    /// <exception cref="EngineRequestException">A parameter is out of range or the prompt does not fit the context.</exception>
    public Task<EngineResult> SubmitAsync(EngineRequest request, CancellationToken cancel = default) => SubmitAsync(request, null, cancel);

    /// <summary>
    /// Queues a request whose tokens are also reported as they are sampled: <paramref name="onToken"/> gets (choice index,
    /// token id) on the engine's thread after every decode step, so it must only hand them on (streaming).
    /// </summary>
    /// <exception cref="EngineRequestException">A parameter is out of range or the prompt does not fit the context.</exception>
    public Task<EngineResult> SubmitAsync(EngineRequest request, Action<int, int>? onToken, CancellationToken cancel = default)
    {
        var maxTokens = Check(request);
        var job = new Job(request, maxTokens, new TaskCompletionSource<EngineResult>(TaskCreationOptions.RunContinuationsAsynchronously), onToken);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(ServingEngine));
        return job.Done.Task.WaitAsync(cancel);
    }

    /// <summary>Stops taking requests, finishes those queued, and frees the model if owned.</summary>
    public void Dispose()
    {
        if (!_queue.Writer.TryComplete()) return;
        _worker.Join();
        if (_ownsModel) Model.Dispose();
    }

    private int Check(EngineRequest r)
    {
        var context = Model.Config.MaxPositionEmbeddings;
        if (r.Prompt is not { Length: > 0 }) throw new EngineRequestException("the prompt holds no tokens", "prompt");
        foreach (var id in r.Prompt)
            if (id < 0 || id >= Model.Config.VocabSize)
                throw new EngineRequestException($"token id {id} is outside the vocabulary [0, {Model.Config.VocabSize})", "prompt");
        if (r.N is < 1 or > MaxN) throw new EngineRequestException($"n = {r.N} must be in [1, {MaxN}]", "n");
        if (!(r.Temperature is >= 0 and <= 2)) throw new EngineRequestException($"temperature = {r.Temperature} must be in [0, 2]", "temperature");
        if (!(r.TopP is > 0 and <= 1)) throw new EngineRequestException($"top_p = {r.TopP} must be in (0, 1]", "top_p");
        if (r.TopLogprobs is < 0 or > MaxTopLogprobs)
            throw new EngineRequestException($"top_logprobs = {r.TopLogprobs} must be in [0, {MaxTopLogprobs}]", "top_logprobs");
        if (r.Stop.Count > 4 || r.Stop.Any(s => string.IsNullOrEmpty(s)))
            throw new EngineRequestException("stop must be up to 4 non-empty strings", "stop");
        if (r.MaxTokens is < 0) throw new EngineRequestException($"max_tokens = {r.MaxTokens} must be ≥ 0", "max_tokens");
        var left = context - r.Prompt.Length;
        if (left < 0 || r.MaxTokens > left)
            throw new EngineRequestException(
                $"this model's maximum context length is {context} tokens; the prompt has {r.Prompt.Length} and {r.MaxTokens ?? 0} more were asked for",
                "messages", "context_length_exceeded");
        return r.MaxTokens ?? left;
    }

    private void Work()
    {
        var reader = _queue.Reader;
        var pending = new List<Job>();
        while (pending.Count > 0 || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            Take(reader, pending);
            if (pending.Count == 0) continue;
            // A few milliseconds' wait lets requests sent together (a client's concurrent calls) share one batch.
            if (Rows(pending) < _options.MaxBatchRows && _options.BatchWindowMs > 0)
            {
                Thread.Sleep(_options.BatchWindowMs);
                Take(reader, pending);
            }
            var batch = NextBatch(pending);
            Run(batch);
        }
    }

    private void Take(ChannelReader<Job> reader, List<Job> pending)
    {
        while (Rows(pending) < _options.MaxBatchRows && reader.TryRead(out var job)) pending.Add(job);
    }

    private static int Rows(List<Job> jobs) => jobs.Sum(j => j.Request.N);

    // The oldest job's sampling key, and every pending job with the same key up to the row limit (the oldest always goes).
    private List<Job> NextBatch(List<Job> pending)
    {
        var key = pending[0].Key;
        var batch = new List<Job>();
        var rows = 0;
        foreach (var job in pending.Where(j => j.Key == key).ToList())
        {
            if (batch.Count > 0 && rows + job.Request.N > _options.MaxBatchRows) break;
            batch.Add(job);
            rows += job.Request.N;
            pending.Remove(job);
        }
        return batch;
    }

    private void Run(List<Job> batch)
    {
        try
        {
            var first = batch[0];
            var options = new SamplingOptions
            {
                Temperature = first.Request.Temperature, TopP = first.Request.TopP, MaxNewTokens = first.MaxTokens, StopIds = StopIds,
            };
            var prompts = new List<int[]>();
            var seeds = new List<ulong>();
            var owners = new List<(Job Job, int Choice)>();
            foreach (var job in batch)
            {
                var random = new SamplingRandom(job.Request.Seed ?? Random.Shared.NextInt64());
                for (var i = 0; i < job.Request.N; i++)
                {
                    prompts.Add(job.Request.Prompt);
                    seeds.Add(random.NextRowSeed());
                    owners.Add((job, i));
                }
            }
            Action<int, int>? onToken = batch.Any(j => j.OnToken is not null) ? (row, token) => owners[row].Job.OnToken?.Invoke(owners[row].Choice, token) : null;
            var results = Sampler.SampleWithSeeds(Model, prompts, options, [.. seeds], onToken);
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _rows, prompts.Count);
            Finish(batch, results);
        }
        catch (Exception e)
        {
            foreach (var job in batch) job.Done.TrySetException(e);
        }
    }

    // Cuts each job's continuations at its stop strings, scores every row that asks for log-probabilities in one
    // Scoring.ScoreRows call (padded forward passes over the batch's rows together, not one pass per row), and completes
    // the jobs. A job whose stop strings or rows fail gets its own exception; its batch-mates are unaffected.
    private void Finish(List<Job> batch, GenerationResult[] results)
    {
        var pending = new List<(Job Job, Choice[] Choices, int[] ScoreRows)>();
        var rows = new List<int[]>();
        var topK = new List<int>();
        var next = 0;
        foreach (var job in batch)
        {
            var r = job.Request;
            var generated = results.AsSpan(next, r.N).ToArray();
            next += r.N;
            try
            {
                var choices = generated.Select(g => Cut(r, g)).ToArray();
                var scoreRows = new int[r.N]; // choice i's row in `rows`, or −1 when it wants no log-probabilities
                for (var i = 0; i < r.N; i++)
                {
                    scoreRows[i] = r.TopLogprobs is not null || (r.ScorePrompt && i == 0) ? rows.Count : -1;
                    if (scoreRows[i] < 0) continue;
                    rows.Add([.. r.Prompt, .. choices[i].Tokens]);
                    topK.Add(r.TopLogprobs ?? 0);
                }
                pending.Add((job, choices, scoreRows));
            }
            catch (Exception e)
            {
                job.Done.TrySetException(e);
            }
        }
        var scores = Scoring.ScoreRows(Model, rows, topK);
        foreach (var (job, choices, scoreRows) in pending) Complete(job, choices, [.. scoreRows.Select(i => i < 0 ? null : scores[i])]);
    }

    private Choice Cut(EngineRequest r, GenerationResult generated)
    {
        var (tokens, text, stoppedByString) = StopStrings.Apply(Chat.Tokenizer, generated.Tokens, r.Stop);
        return new Choice(tokens, text, generated.StoppedAtEos || stoppedByString ? "stop" : "length");
    }

    private static void Complete(Job job, Choice[] choices, RowScore?[] scored)
    {
        var r = job.Request;
        if (scored.FirstOrDefault(s => s?.Error is not null) is { } failed)
        {
            job.Done.TrySetException(failed.Error!);
            return;
        }
        var done = choices.Select((c, i) => new EngineChoice(c.Tokens, c.Text, c.FinishReason,
            r.TopLogprobs is null ? null : scored[i]!.Entries!.Skip(r.Prompt.Length).Select(t => t!).ToList())).ToList();
        var promptLogprobs = r.ScorePrompt ? scored[0]!.Entries!.Take(r.Prompt.Length).ToList() : null;
        job.Done.TrySetResult(new EngineResult(done, promptLogprobs));
    }

    // A continuation cut at its stop strings, before scoring.
    private sealed record Choice(int[] Tokens, string Text, string FinishReason);

    private sealed record Job(EngineRequest Request, int MaxTokens, TaskCompletionSource<EngineResult> Done, Action<int, int>? OnToken)
    {
        // Requests with the same key can share one Sampler call.
        public (double, double, int) Key => (Request.Temperature, Request.TopP, MaxTokens);
    }
}

/// <summary>How a <see cref="ServingEngine"/> batches.</summary>
/// <param name="MaxBatchRows">Most prompt rows (requests × n) in one sampler call.</param>
/// <param name="BatchWindowMs">How long the engine waits after the first queued request for others to join its batch:
/// 5 ms is short beside a decode step of any real model and long enough for a burst of concurrent calls to gather.</param>
public sealed record EngineOptions(int MaxBatchRows = 32, int BatchWindowMs = 5)
{
    /// <summary>Checks the settings.</summary>
    public void Validate()
    {
        if (MaxBatchRows < 1) throw new ArgumentException($"MaxBatchRows = {MaxBatchRows} must be ≥ 1");
        if (BatchWindowMs < 0) throw new ArgumentException($"BatchWindowMs = {BatchWindowMs} must be ≥ 0");
    }
}
