using System;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// WebSockets over HTTP/2 (RFC 8441: an extended CONNECT instead of an upgrade), as a browser opens them on an HTTP/2
/// connection, against a real Kestrel on 127.0.0.1:0 speaking HTTP/2 only.
/// </summary>
public sealed class Http2WebSocketTests
{
    [Fact]
    public async Task Http2_ExtendedConnect_StreamsResetThenEvents()
    {
        await using var server = await TestServer.StartAsync(http2Only: true);
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var client = NewHttp2Client();

        using (var timeout = new CancellationTokenSource(Client.Timeout))
        {
            await client.ConnectAsync(server.WebSocketUri, invoker, timeout.Token);
        }

        // 200 to a CONNECT, not 101 to an upgrade: the WebSocket really runs over HTTP/2.
        Assert.Equal(HttpStatusCode.OK, client.HttpStatusCode);
        Assert.Equal(RocketWebSocketProtocol.Subprotocol, client.SubProtocol);
        Assert.True((await client.ReceiveAsync()).IsReset);

        var cursor = server.Collection.Create("1", """{"text":"over h2"}"""u8);
        var received = await client.ReceiveAsync();
        Assert.False(received.IsReset);
        Assert.Equal(cursor.ToString(), received.Id);
        Assert.Contains("over h2", received.Patch, StringComparison.Ordinal);

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task Http2_ExtendedConnect_WithoutTheWebSocketTransport_405()
    {
        await using var server = await TestServer.StartAsync(webSockets: false, http2Only: true);
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var client = NewHttp2Client();
        using var timeout = new CancellationTokenSource(Client.Timeout);

        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(server.WebSocketUri, invoker, timeout.Token));

        // (Its Allow: GET is a content header to System.Net.Http, which ClientWebSocket does not report.)
        Assert.Equal(HttpStatusCode.MethodNotAllowed, client.HttpStatusCode);
        Assert.Equal(0, server.Collection.SubscriberCount);
    }

    private static ClientWebSocket NewHttp2Client()
    {
        var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        client.Options.CollectHttpResponseDetails = true;
        client.Options.AddSubProtocol(RocketWebSocketProtocol.Subprotocol);
        return client;
    }
}
