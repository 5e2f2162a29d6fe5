using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.Live;

namespace Rocket.Client.Tests;

/// <summary>
/// A real Kestrel server with the <c>messages</c> collection on every transport (SSE with a short <c>retry:</c>), and a
/// hook that cuts every open stream's TCP connection (<see cref="HttpContext.Abort"/>), as a failing network would.
/// </summary>
public sealed class ClientTestServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<HttpContext, byte> _streams = new();

    private ClientTestServer(WebApplication app, int port)
    {
        App = app;
        Port = port;
        Collection = app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages");
    }

    public WebApplication App { get; private set; }

    public int Port { get; }

    public Uri CollectionUri => new($"http://127.0.0.1:{Port}/messages");

    public LiveCollection Collection { get; }

    public int OpenStreams => _streams.Count;

    /// <summary>What the WebSocket transport logged, from Debug up (and everything else from Warning up).</summary>
    public ConcurrentQueue<LogEntry> Logs { get; private init; } = new();

    /// <summary>Every request: method, path, and the X-Test, Authorization and Cookie headers it carried.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<ClientTestServer> StartAsync(int port = 0, Action<LiveCollectionOptions>? configure = null)
    {
        port = port == 0 ? FreePort() : port;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var logs = new ConcurrentQueue<LogEntry>();
        builder.Logging.AddProvider(new CapturingLoggerProvider(logs));
        builder.Logging.AddFilter<CapturingLoggerProvider>("Rocket.Transports.WebSockets", LogLevel.Debug);
        builder.Services.AddRocket()
            .AddCollection("messages", configure)
            .AddSseTransport(o => o.RetryInterval = TimeSpan.FromMilliseconds(50))
            .AddWebSocketTransport()
            .AddSignalRTransport();
        var app = builder.Build();
        ClientTestServer? server = null;
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            server!.Requests.Enqueue($"{context.Request.Method} {context.Request.Path} x-test={context.Request.Headers["X-Test"]} auth={context.Request.Headers.Authorization} cookie={context.Request.Headers.Cookie}");
            var isStream = context.WebSockets.IsWebSocketRequest
                || context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.Ordinal);
            if (!isStream)
            {
                await next(context);
                return;
            }

            server!._streams[context] = 0;
            try
            {
                await next(context);
            }
            finally
            {
                server._streams.TryRemove(context, out _);
            }
        });
        app.MapRocketCollection("messages");
        app.MapRocketHub();
        server = new ClientTestServer(app, port) { Logs = logs };
        await app.StartAsync();
        return server;
    }

    /// <summary>Aborts every open stream connection (SSE, WebSocket, SignalR's WebSocket) at the TCP level.</summary>
    public int CutStreams()
    {
        var cut = 0;
        foreach (var context in _streams.Keys)
        {
            try
            {
                context.Abort();
                cut++;
            }
            catch (ObjectDisposedException)
            {
                // The request ended between the listing and the abort: that stream is gone already.
            }
        }

        return cut;
    }

    public async Task<JsonNode> GetKeyedAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(CollectionUri + "?form=keyed"));
        return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 128 })!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }

    public sealed record LogEntry(string Category, LogLevel Level, string EventName, string Message, Exception? Exception);

    private sealed class CapturingLoggerProvider(ConcurrentQueue<LogEntry> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(category, logLevel, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), formatter(state, exception), exception));
        }
    }
}
