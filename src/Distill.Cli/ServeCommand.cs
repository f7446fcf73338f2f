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
        var o = new RecordOptions<ServeOptions>(new ServeOptions { Model = "" });
        o.Add(new Option<DirectoryInfo>("--model") { Description = "Hugging Face folder of the model to serve", Required = true }, (r, v) => r with { Model = v.FullName });
        o.Add(new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface)" }, (r, v) => r with { Host = v }, r => r.Host);
        o.Add(new Option<int>("--port") { Description = "TCP port (0 picks a free one)" }, (r, v) => r with { Port = v }, r => r.Port);
        o.Add(new Option<string?>("--served-model-name") { Description = "Model id clients use (default: the folder's name)" }, (r, v) => r with { ServedModelName = v });
        o.Add(CommonOptions.ChatFormat(), (r, v) => r with { ChatFormat = v });
        o.Add(new Option<int>("--max-batch") { Description = "Most sequences decoded together (concurrent requests × n)" },
            (r, v) => r with { Engine = r.Engine with { MaxBatchRows = v } }, r => r.Engine.MaxBatchRows);
        o.Add(CommonOptions.Device(), (r, v) => r with { Device = v! }, r => r.Device);
        o.Add(CommonOptions.DType("Compute dtype"), (r, v) => r with { DType = v! }, r => r.DType);
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/models, /v1/chat/completions, /v1/completions)");
        o.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            var output = result.InvocationConfiguration.Output;
            ServingEngine? engine = null;
            OpenAiServer? server = null;
            var exit = CliErrors.Run(result, "distill serve", () =>
            {
                var options = o.Bind(result);
                engine = ServingEngine.Load(options.Model, Devices.Parse(options.Device), Devices.ParseComputeDType(options.DType), options.ChatFormat,
                    options.ServedModelName, options.Engine);
                server = OpenAiServer.StartAsync(engine, options.Host, options.Port, log: null, cancel).GetAwaiter().GetResult();
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
