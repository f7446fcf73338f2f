using System.CommandLine;
using Distill.Serving;
using Distill.Tensors;

namespace Distill.Cli;

/// <summary><c>distill serve</c>: an OpenAI-compatible HTTP server for a model folder (see <see cref="OpenAiServer"/>).</summary>
public static class ServeCommand
{
    /// <summary>The <c>serve</c> command; runs until Ctrl+C.</summary>
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face folder of the model to serve", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 8000 };
        var name = new Option<string?>("--served-model-name") { Description = "Model id clients use (default: the folder's name)" };
        var chatFormat = new Option<string?>("--chat-format") { Description = "Built-in chat template to use instead of the model's: chatml, llama3, llama2, mistral, zephyr" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most sequences decoded together (concurrent requests × n)", DefaultValueFactory = _ => 32 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/models, /v1/chat/completions, /v1/completions)")
        {
            model, host, port, name, chatFormat, maxBatch, device, dtype,
        };
        command.SetAction(async (result, cancel) =>
        {
            var output = result.InvocationConfiguration.Output;
            ServingEngine? engine = null;
            OpenAiServer? server = null;
            var exit = CliErrors.Run(result, "distill serve", () =>
            {
                engine = ServingEngine.Load(result.GetValue(model)!.FullName, Devices.Parse(result.GetValue(device)!),
                    Devices.ParseComputeDType(result.GetValue(dtype)!), result.GetValue(chatFormat), result.GetValue(name),
                    new EngineOptions(MaxBatchRows: result.GetValue(maxBatch)));
                server = OpenAiServer.StartAsync(engine, result.GetValue(host)!, result.GetValue(port), log: null, cancel).GetAwaiter().GetResult();
                return 0;
            });
            if (exit != 0 || server is null)
            {
                engine?.Dispose();
                return exit;
            }
            output.WriteLine($"distill serve: '{engine!.ModelName}' at {server.BaseUrl} (Ctrl+C stops)");
            try
            {
                await server.WaitForShutdownAsync(cancel);
            }
            catch (OperationCanceledException)
            {
            }
            await server.DisposeAsync();
            engine.Dispose();
            output.WriteLine("distill serve: stopped");
            return 0;
        });
        return command;
    }
}
