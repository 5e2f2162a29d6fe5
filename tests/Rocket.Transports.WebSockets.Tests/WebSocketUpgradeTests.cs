using System;
using System.Diagnostics;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// The endpoint's own HTTP/1.1 upgrade over a real Kestrel on 127.0.0.1:0: the handshake, and pre-framed events written
/// to the upgraded connection a batch at a time, alongside the WebSocket's own pings, pongs and close frames.
/// </summary>
public sealed class WebSocketUpgradeTests
{
    // RFC 6455 section 1.3's example.
    private const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    [Fact]
    public async Task Upgrade_ValidRequest_101WithAcceptSubprotocolAndNoExtensions()
    {
        await using var server = await TestServer.StartAsync();

        var response = await RawRequestAsync(server, key: SampleKey, extra: "Sec-WebSocket-Protocol: graphql-ws, rocket.jsonpatch.v1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");

        Assert.StartsWith("HTTP/1.1 101 ", response, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Accept: " + SampleAccept + "\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nSec-WebSocket-Protocol: rocket.jsonpatch.v1\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nUpgrade: websocket\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", response, StringComparison.OrdinalIgnoreCase);
    }

    // A refused upgrade is answered as one (RFC 6455 section 4.2.2 and 4.4), never with the collection's document: a
    // client must not take a 200 for a WebSocket it did not get.
    [Theory]
    [InlineData(null, "13")]
    [InlineData("not-base64!", "13")]
    [InlineData("c2hvcnQ=", "13")] // base64, but of 5 bytes, not 16
    public async Task Upgrade_BadKey_400ProblemNoUpgrade(string? key, string? version)
    {
        await using var server = await TestServer.StartAsync();

        var response = await RawRequestAsync(server, key, version);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Accept", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Upgrade_PastTheSubscriberLimit_503BeforeTheUpgrade()
    {
        await using var server = await TestServer.StartAsync(collection: static c => c.MaxSubscribers = 1);
        using var admitted = await server.ConnectAsync();
        await admitted.ReceiveAsync(); // the reset: it is subscribed

        var response = await RawRequestAsync(server, SampleKey);

        Assert.StartsWith("HTTP/1.1 503 ", response, StringComparison.Ordinal);
        Assert.Contains("Retry-After: ", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Accept", response, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("8")]
    [InlineData(null)]
    public async Task Upgrade_UnsupportedVersion_426WithTheSupportedVersion(string? version)
    {
        await using var server = await TestServer.StartAsync();

        var response = await RawRequestAsync(server, SampleKey, version);

        Assert.StartsWith("HTTP/1.1 426 ", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Version: 13\r\n", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Accept", response, StringComparison.OrdinalIgnoreCase);
    }

    // The multi-collection WebSocket refuses a broken handshake the same way.
    [Theory]
    [InlineData(SampleKey, "8", 426)]
    [InlineData(SampleKey, null, 426)]
    [InlineData("not-base64!", "13", 400)]
    [InlineData(null, "13", 400)]
    public async Task Upgrade_MultiCollectionBrokenHandshake_426Or400WithTheSupportedVersion(string? key, string? version, int status)
    {
        await using var server = await TestServer.StartAsync();

        var response = await RawRequestAsync(server, key, version, path: RocketWebSocketEndpointRouteBuilderExtensions.DefaultPattern);

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Accept", response, StringComparison.OrdinalIgnoreCase);
        if (status == 426)
        {
            Assert.Contains("Sec-WebSocket-Version: 13\r\n", response, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Upgrade_OnlyOtherSubprotocols_400ProblemNoUpgrade()
    {
        await using var server = await TestServer.StartAsync();

        var response = await RawRequestAsync(server, SampleKey, extra: "Sec-WebSocket-Protocol: graphql-ws\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flood_QueuedFasterThanWritten_EveryEventArrivesIntactInOrder()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await server.ConnectAsync("?lastEventId=x");
        Assert.True((await client.ReceiveAsync()).IsReset);

        // Published before the client reads: the events pile up and go out in batches, some over 64 KiB.
        const int Events = 1000;
        var cursors = new List<string>();
        for (var i = 0; i < Events; i++)
        {
            cursors.Add(server.Collection.Create(i.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes($"{{\"n\":{i},\"text\":\"{new string('x', i % 300)}\"}}")).ToString());
        }

        for (var i = 0; i < Events; i++)
        {
            var received = await client.ReceiveAsync();
            Assert.Equal(cursors[i], received.Id);
            Assert.Equal($"[{{\"op\":\"add\",\"path\":\"/messages/{i}\",\"value\":{{\"n\":{i},\"text\":\"{new string('x', i % 300)}\"}}}}]", received.Patch);
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task LargeEvent_Over64KiB_ArrivesWhole_BetweenSmallOnes()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await server.ConnectAsync("?lastEventId=x");
        Assert.True((await client.ReceiveAsync()).IsReset);
        var text = new string('é', 100 * 1024); // 200 KiB of UTF-8: a 64-bit length

        server.Collection.Create("a", "{}"u8);
        server.Collection.Create("big", Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}"));
        server.Collection.Create("b", "{}"u8);
        var a = await client.ReceiveAsync();
        var big = await client.ReceiveAsync();
        var b = await client.ReceiveAsync();

        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/a\",\"value\":{}}]", a.Patch);
        Assert.Equal(text, big.Message.GetProperty("patch")[0].GetProperty("value").GetProperty("text").GetString());
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/b\",\"value\":{}}]", b.Patch);
        Assert.Equal(server.Collection.Cursor.ToString(), b.Id);
    }

    [Fact]
    public async Task PingsAndPongsBothWays_DuringAFlood_FramesNeverInterleave_ThenCloseAfterFlood()
    {
        // Both sides ping often and answer the other's pings: the server's pongs and pings are written by its WebSocket
        // while the transport writes batches to the same connection. The floods go on until many ping intervals have
        // passed, however fast or slow the machine is, so control frames are interleaved with batches throughout.
        var interval = TimeSpan.FromMilliseconds(10);
        await using var server = await TestServer.StartAsync(transport: o =>
        {
            o.KeepAliveInterval = interval;
            o.KeepAliveTimeout = TimeSpan.FromSeconds(10);
        });
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol(RocketWebSocketProtocol.Subprotocol);
        client.Options.KeepAliveInterval = interval;
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(10);
        await client.ConnectAsync(new Uri(server.WebSocketUri + "?lastEventId=x"), CancellationToken.None);
        Assert.True((await client.ReceiveAsync()).IsReset);

        const int MinRounds = 40;
        const int PerRound = 100;
        var payload = Encoding.UTF8.GetBytes($"{{\"text\":\"{new string('p', 500)}\"}}");
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < MinRounds || clock.Elapsed < 20 * interval; round++)
        {
            var first = server.Collection.Cursor.Sequence + 1;
            for (var i = 0; i < PerRound; i++)
            {
                server.Collection.Create($"{round}.{i}", payload);
            }

            for (var i = 0; i < PerRound; i++)
            {
                var received = await client.ReceiveAsync();
                Assert.Equal(new Live.Cursor(server.Collection.Epoch, first + i).ToString(), received.Id);
                Assert.Equal($"[{{\"op\":\"add\",\"path\":\"/messages/{round}.{i}\",\"value\":{Encoding.UTF8.GetString(payload)}}}]", received.Patch);
            }
        }

        var stopping = server.StopAsync();
        var close = await client.ReceiveCloseAsync(m => Assert.Equal("close", m.Type));
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        Assert.Equal(WebSocketState.Closed, client.State);
    }

    [Fact]
    public async Task StalledClient_WriteTimeout_ConnectionAborted()
    {
        await using var server = await TestServer.StartAsync(
            collection: o => { o.SubscriberQueueMaxBytes = 256L * 1024 * 1024; o.SubscriberQueueMaxEvents = 100_000; },
            transport: o => o.WriteTimeout = TimeSpan.FromMilliseconds(500));
        var uri = new Uri(server.BaseUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(uri.Host, uri.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(Request(uri, SampleKey, "13", "lastEventId=x", string.Empty)), SocketFlags.None);

        // The client never reads: its buffers fill, the server's write blocks, and the write timeout ends it (the queue is
        // far too large to overflow first).
        var record = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('a', 16 * 1024) + "\"}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var i = 0; server.Collection.SubscriberCount == 0 && DateTime.UtcNow < deadline; i++)
        {
            await Task.Delay(10);
        }

        for (var i = 0; server.Collection.SubscriberCount > 0; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, "the stalled client was never aborted");
            server.Collection.Create(i.ToString(CultureInfo.InvariantCulture), record);
            if (i % 50 == 0)
            {
                await Task.Delay(20);
            }
        }

        // Aborted: reading what was buffered ends with the connection closed or reset, never with a close frame answer.
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // reset: fine
        }
    }

    private static string Request(Uri uri, string? key, string? version, string query, string extra, string path = "/messages") =>
        $"GET {path}?{query} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        (version is null ? string.Empty : $"Sec-WebSocket-Version: {version}\r\n") +
        (key is null ? string.Empty : $"Sec-WebSocket-Key: {key}\r\n") +
        extra + "\r\n";

    // Sends a hand-made upgrade request and returns the response head (status line and headers).
    private static async Task<string> RawRequestAsync(TestServer server, string? key, string? version = "13", string extra = "", string path = "/messages")
    {
        var uri = new Uri(server.BaseUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(Client.Timeout);
        await socket.ConnectAsync(uri.Host, uri.Port, timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(Request(uri, key, version, "lastEventId=x", extra, path)), SocketFlags.None, timeout.Token);
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.True(read > 0, "the server closed the connection before the end of the response head: " + head);
            head.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        var text = head.ToString();
        return text[..(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];
    }
}
