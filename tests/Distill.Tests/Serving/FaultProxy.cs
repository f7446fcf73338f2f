using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Distill.Tests.Serving;

/// <summary>
/// A reverse proxy in front of a server that breaks the first chat requests on purpose, one fault per request in the
/// order given, then passes everything through: 5xx, 429 with Retry-After, a reset connection, a truncated body, and a
/// reply slower than the client's timeout. Requests whose body contains <see cref="Poison"/> get a 400 while
/// <see cref="Rejecting"/> is on. Records the Authorization headers it sees.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    public enum Fault { ServerError, BadGateway, TooManyRequests, Reset, Truncated, Slow }

    public const string Poison = "POISON";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Fault> _faults;
    private readonly HttpClient _target;

    private FaultProxy(WebApplication app, ConcurrentQueue<Fault> faults, HttpClient target)
    {
        _app = app;
        _faults = faults;
        _target = target;
    }

    public Uri Address { get; private set; } = null!;

    public bool Rejecting { get; set; } = true;

    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromSeconds(4);

    public ConcurrentBag<string> Authorizations { get; } = [];

    public int ChatRequests => _chatRequests;

    public int FaultsLeft => _faults.Count;

    private int _chatRequests;

    public static async Task<FaultProxy> StartAsync(Uri target, params Fault[] faults)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new FaultProxy(app, new ConcurrentQueue<Fault>(faults), new HttpClient { BaseAddress = target });
        app.Run(proxy.Handle);
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Address = new Uri(bound + "/v1");
        return proxy;
    }

    private async Task Handle(HttpContext context)
    {
        if (context.Request.Headers.Authorization.FirstOrDefault() is { } auth) Authorizations.Add(auth);
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var path = context.Request.Path.Value!.TrimStart('/')["v1/".Length..];
        if (path == "chat/completions")
        {
            Interlocked.Increment(ref _chatRequests);
            if (Rejecting && body.Contains(Poison, StringComparison.Ordinal))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("""{"error": {"message": "poisoned prompt", "type": "invalid_request_error", "param": null, "code": null}}""");
                return;
            }
            if (_faults.TryDequeue(out var fault))
            {
                switch (fault)
                {
                    case Fault.ServerError:
                    case Fault.BadGateway:
                        context.Response.StatusCode = fault == Fault.ServerError ? 503 : 502;
                        await context.Response.WriteAsync("""{"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}}""");
                        return;
                    case Fault.TooManyRequests:
                        context.Response.StatusCode = 429;
                        context.Response.Headers.RetryAfter = "1";
                        await context.Response.WriteAsync("""{"error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": null}}""");
                        return;
                    case Fault.Reset:
                        context.Abort();
                        return;
                    case Fault.Truncated:
                        context.Response.StatusCode = 200;
                        context.Response.ContentType = "application/json";
                        await context.Response.WriteAsync("""{"id": "chatcmpl-1", "object": "chat.completion", "choi""");
                        return;
                    case Fault.Slow:
                        await Task.Delay(SlowDelay);
                        break;
                }
            }
        }
        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), path);
        if (context.Request.Method == "POST") forward.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _target.SendAsync(forward);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await context.Response.WriteAsync(await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        _target.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
