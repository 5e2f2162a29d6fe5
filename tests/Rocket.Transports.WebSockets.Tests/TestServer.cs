using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rocket.Live;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>A real Kestrel on 127.0.0.1:0 serving the <c>messages</c> collection with SSE and (by default) WebSockets.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public Uri WebSocketUri => new(BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/messages");

    public Uri MultiCollectionUri => new(BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + RocketWebSocketEndpointRouteBuilderExtensions.DefaultPattern);

    public LiveCollection Collection => _app.Services.GetRequiredService<CollectionRegistry>().GetCollection("messages");

    public static async Task<TestServer> StartAsync(
        bool webSockets = true,
        Action<LiveCollectionOptions>? collection = null,
        Action<WebSocketTransportOptions>? transport = null,
        bool http2Only = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (http2Only)
        {
            // HTTP/2 without TLS (prior knowledge): how a test reaches RFC 8441 WebSockets without a certificate.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        }
        else
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }

        builder.Logging.ClearProviders();
        var rocket = builder.Services.AddRocket().AddCollection("messages", collection).AddSseTransport();
        if (webSockets)
        {
            rocket.AddWebSocketTransport(transport);
        }

        var app = builder.Build();
        app.UseWebSockets();
        app.MapRocketCollection("messages");
        if (webSockets)
        {
            app.MapRocketWebSocket(); // the multi-collection WebSocket, at /rocket/ws
        }

        await app.StartAsync();
        var address = app.Urls.First();
        return new TestServer(app, address.TrimEnd('/'));
    }

    public Task<ClientWebSocket> ConnectAsync(string query = "", bool offerSubprotocol = true) => ConnectAsync(new Uri(WebSocketUri + query), offerSubprotocol);

    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, bool offerSubprotocol = true)
    {
        var client = new ClientWebSocket();
        if (offerSubprotocol)
        {
            client.Options.AddSubProtocol(RocketWebSocketProtocol.Subprotocol);
        }

        using var timeout = new CancellationTokenSource(Client.Timeout);
        await client.ConnectAsync(uri, timeout.Token);
        return client;
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
