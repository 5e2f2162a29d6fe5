using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>A real Kestrel on 127.0.0.1:0 and <see cref="ClientWebSocket"/>: the endpoint, the upgrade, the close codes.</summary>
public sealed class WebSocketEndToEndTests
{
    [Fact]
    public async Task Connect_NoCursor_SubprotocolSelectedResetThenAddReplaceRemove()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await server.ConnectAsync();

        var reset = await client.ReceiveAsync(); // at once: the client sent nothing and asked for no resume message
        server.Collection.Create("1", "{\"id\":\"1\",\"text\":\"one\"}"u8);
        server.Collection.Update("1", "{\"id\":\"1\",\"text\":\"uno\"}"u8);
        server.Collection.Delete("1");
        var add = await client.ReceiveAsync();
        var replace = await client.ReceiveAsync();
        var remove = await client.ReceiveAsync();

        Assert.Equal(RocketWebSocketProtocol.Subprotocol, client.SubProtocol);
        Assert.True(reset.IsReset);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"one\"}}]", add.Patch);
        Assert.Equal("[{\"op\":\"replace\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"uno\"}}]", replace.Patch);
        Assert.Equal("[{\"op\":\"remove\",\"path\":\"/messages/1\"}]", remove.Patch);
        Assert.Equal(server.Collection.Cursor.ToString(), remove.Id);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Connect_NoCursorWithLongResumeWindow_StartsAtOnce()
    {
        // A resume window that would outlast the test: the reset arrives only because a plain connection does not wait.
        await using var server = await TestServer.StartAsync(transport: static o => o.ResumeMessageTimeout = TimeSpan.FromHours(1));
        using var client = await server.ConnectAsync();

        Assert.True((await client.ReceiveAsync()).IsReset);
    }

    [Fact]
    public async Task Connect_ResumeByMessageAsked_CursorInFirstMessageReplaysTheMissedEvents()
    {
        await using var server = await TestServer.StartAsync();
        server.Collection.Create("1", "{}"u8);
        var cursor = server.Collection.Cursor.ToString();
        server.Collection.Create("2", "{}"u8);
        using var client = await server.ConnectAsync("?resume=message");

        await client.SendTextAsync($"{{\"type\":\"resume\",\"lastEventId\":\"{cursor}\"}}");
        var replayed = await client.ReceiveAsync();

        Assert.False(replayed.IsReset);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/2\",\"value\":{}}]", replayed.Patch);
    }

    [Fact]
    public async Task Connect_NoSubprotocolOffered_Accepted()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await server.ConnectAsync("?lastEventId=x", offerSubprotocol: false);

        Assert.True((await client.ReceiveAsync()).IsReset);
        Assert.Null(client.SubProtocol);
    }

    [Fact]
    public async Task Connect_QueryCursorInHistory_ExactlyTheMissedEvents()
    {
        await using var server = await TestServer.StartAsync();
        server.Collection.Create("1", "{}"u8);
        var cursor = server.Collection.Cursor;
        server.Collection.Create("2", "{}"u8);
        server.Collection.Create("3", "{}"u8);
        using var client = await server.ConnectAsync($"?lastEventId={cursor}");

        var first = await client.ReceiveAsync();
        var second = await client.ReceiveAsync();
        server.Collection.Delete("2");
        var live = await client.ReceiveAsync();

        Assert.Equal($"{cursor.Epoch:x8}.{cursor.Sequence + 1}", first.Id);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/2\",\"value\":{}}]", first.Patch);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/3\",\"value\":{}}]", second.Patch);
        Assert.Equal("[{\"op\":\"remove\",\"path\":\"/messages/2\"}]", live.Patch);
    }

    [Fact]
    public async Task Connect_CursorOfAnotherEpoch_Reset()
    {
        await using var server = await TestServer.StartAsync();
        server.Collection.Create("1", "{}"u8);
        var other = (server.Collection.Epoch ^ 1).ToString("x8", CultureInfo.InvariantCulture) + ".1";
        using var client = await server.ConnectAsync($"?lastEventId={other}");

        var reset = await client.ReceiveAsync();

        Assert.True(reset.IsReset);
        Assert.Equal("[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{\"1\":{}}}}]", reset.Patch);
    }

    [Fact]
    public async Task MalformedAndOversizedMessages_Closed1008And1009_OthersKeepReceiving()
    {
        await using var server = await TestServer.StartAsync();
        using var good = await server.ConnectAsync("?lastEventId=x");
        using var malformed = await server.ConnectAsync("?lastEventId=x");
        using var oversized = await server.ConnectAsync("?lastEventId=x");
        foreach (var client in new[] { good, malformed, oversized })
        {
            Assert.True((await client.ReceiveAsync()).IsReset);
        }

        await malformed.SendTextAsync("{\"type\":");
        await oversized.SendTextAsync(new string(' ', 5000));
        var malformedClose = await malformed.ReceiveCloseAsync(m => Assert.Equal("error", m.Type));
        var oversizedClose = await oversized.ReceiveCloseAsync(m => Assert.Equal("error", m.Type));
        server.Collection.Create("1", "{}"u8);
        var add = await good.ReceiveAsync();

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, malformedClose.CloseStatus);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, oversizedClose.CloseStatus);
        Assert.Contains("4096", oversizedClose.CloseDescription, StringComparison.Ordinal);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{}}]", add.Patch);
    }

    [Fact]
    public async Task SlowConsumer_Closed4000_WhileAnotherClientReceivesEverything()
    {
        await using var server = await TestServer.StartAsync(
            collection: o => { o.SubscriberQueueMaxBytes = 256 * 1024; o.CloseTimeout = TimeSpan.FromSeconds(30); },
            transport: o => o.WriteTimeout = TimeSpan.FromSeconds(30));
        using var slow = await server.ConnectAsync("?lastEventId=x");
        using var fast = await server.ConnectAsync("?lastEventId=x");
        Assert.True((await slow.ReceiveAsync()).IsReset);
        Assert.True((await fast.ReceiveAsync()).IsReset);

        // The fast client reads each event before the next is made; the slow one reads nothing until the server gave up
        // on it (its socket buffers and then its queue full).
        var record = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('a', 16 * 1024) + "\"}");
        var count = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (server.Collection.SubscriberCount > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the slow client was never closed as a slow consumer");
            var cursor = server.Collection.Create((count++).ToString(CultureInfo.InvariantCulture), record);
            var received = await fast.ReceiveAsync();
            Assert.Equal(cursor.ToString(), received.Id);
        }

        server.Collection.Create("last", "{\"last\":true}"u8);
        var last = await fast.ReceiveAsync();
        var close = await slow.ReceiveCloseAsync();

        Assert.Contains("\"last\"", last.Patch, StringComparison.Ordinal);
        Assert.Equal(server.Collection.Cursor.ToString(), last.Id);
        Assert.Equal(RocketWebSocketProtocol.SlowConsumerCloseStatus, close.CloseStatus);
    }

    [Fact]
    public async Task ServerStops_Close1001()
    {
        var server = await TestServer.StartAsync();
        using var client = await server.ConnectAsync("?lastEventId=x");
        Assert.True((await client.ReceiveAsync()).IsReset);

        var stopping = server.StopAsync();
        var close = await client.ReceiveCloseAsync(m => Assert.Equal("close", m.Type));
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
    }

    [Fact]
    public async Task WithoutWebSocketTransport_NoUpgrade_OrdinaryGetStillWorks()
    {
        await using var server = await TestServer.StartAsync(webSockets: false);
        using var client = new ClientWebSocket();

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(server.WebSocketUri, CancellationToken.None));
        using var http = new HttpClient();
        var document = await http.GetStringAsync(new Uri(server.BaseUrl + "/messages"));

        Assert.Contains("200", refused.Message, StringComparison.Ordinal);
        Assert.Equal("{\"messages\":[]}", document);
    }

    [Fact]
    public async Task Connect_OnlyOtherSubprotocolsOffered_400NoUpgrade()
    {
        await using var server = await TestServer.StartAsync();
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("graphql-ws");

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(server.WebSocketUri, CancellationToken.None));

        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
    }
}
