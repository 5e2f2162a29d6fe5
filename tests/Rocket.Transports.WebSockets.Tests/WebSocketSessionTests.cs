using System;
using System.Linq;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>The session over an in-memory WebSocket pair: the protocol's logic with no sockets.</summary>
public sealed class WebSocketSessionTests
{
    private static readonly WebSocketTransportOptions Options = new() { ResumeMessageTimeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task RunAwaitingResumeAsync_ResumeMessageWithNoCursor_StartsWithResetThenLiveEvents()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAwaitingResumeAsync(pair.Server, collection, Options);

        await pair.Client.SendTextAsync("{\"type\":\"resume\"}");
        var reset = await pair.Client.ReceiveAsync();
        collection.Create("1", "{\"id\":\"1\"}"u8);
        var add = await pair.Client.ReceiveAsync();

        Assert.True(reset.IsReset);
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\"}}]", add.Patch);
        Assert.Equal(collection.Cursor.ToString(), add.Id);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Fact]
    public async Task RunAwaitingResumeAsync_ResumeMessageWithCursorInHistory_YieldsExactlyTheMissedEvents()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", "{}"u8);
        var cursor = collection.Cursor.ToString();
        collection.Create("2", "{}"u8);
        collection.Delete("1");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAwaitingResumeAsync(pair.Server, collection, Options);

        await pair.Client.SendTextAsync($"{{\"type\":\"resume\",\"lastEventId\":\"{cursor}\"}}");
        var first = await pair.Client.ReceiveAsync();
        var second = await pair.Client.ReceiveAsync();

        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/2\",\"value\":{}}]", first.Patch);
        Assert.Equal("[{\"op\":\"remove\",\"path\":\"/messages/1\"}]", second.Patch);
        Assert.Equal(collection.Cursor.ToString(), second.Id);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
    }

    [Fact]
    public async Task RunAwaitingResumeAsync_NoMessageWithinResumeWindow_StartsWithReset()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAwaitingResumeAsync(pair.Server, collection, new WebSocketTransportOptions { ResumeMessageTimeout = TimeSpan.FromMilliseconds(50) });

        var reset = await pair.Client.ReceiveAsync();

        Assert.True(reset.IsReset);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
    }

    [Theory]
    [InlineData("not json", WebSocketCloseStatus.PolicyViolation, false)]
    [InlineData("[1,2]", WebSocketCloseStatus.PolicyViolation, false)]
    [InlineData("{\"type\":\"subscribe\"}", WebSocketCloseStatus.PolicyViolation, false)]
    [InlineData("{\"type\":\"resume\",\"lastEventId\":42}", WebSocketCloseStatus.PolicyViolation, false)]
    [InlineData("not json", WebSocketCloseStatus.PolicyViolation, true)]
    [InlineData("{\"lastEventId\":\"\\ud800\",\"type\":\"resume\"}", WebSocketCloseStatus.PolicyViolation, false)]
    [InlineData("{\"type\":\"\\udc00resume\"}", WebSocketCloseStatus.PolicyViolation, true)]
    public async Task RunAsync_MalformedMessage_ErrorMessageThenCloseWithCode(string message, WebSocketCloseStatus expected, bool upgraded)
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create(upgraded: upgraded);
        var session = pair.RunSessionAsync(collection, null, Options);

        await pair.Client.SendTextAsync(message);
        var error = await pair.Client.ReceiveAsync();
        var close = await pair.Client.ReceiveCloseAsync();

        Assert.Equal("error", error.Type);
        Assert.Equal((int)expected, error.Message.GetProperty("code").GetInt32());
        Assert.Equal(expected, close.CloseStatus);
        Assert.Equal(error.Message.GetProperty("reason").GetString(), close.CloseDescription);
        await session.WaitAsync(Client.Timeout);
        Assert.Equal(WebSocketState.Closed, pair.Server.State);
    }

    [Fact]
    public async Task RunAsync_MessageOverLimit_Closes1009()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAsync(pair.Server, collection, "00000000.0", new WebSocketTransportOptions { MaxIncomingMessageBytes = 100 });
        await pair.Client.ReceiveAsync(); // the reset

        await pair.Client.SendTextAsync("{\"type\":\"resume\",\"lastEventId\":\"" + new string('x', 200) + "\"}");
        var close = await pair.Client.ReceiveCloseAsync(m => Assert.Equal("error", m.Type));

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, close.CloseStatus);
        await session.WaitAsync(Client.Timeout);
    }

    [Fact]
    public async Task RunAsync_BinaryMessage_Closes1003()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAwaitingResumeAsync(pair.Server, collection, Options);

        await pair.Client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var close = await pair.Client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, close.CloseStatus);
        await session.WaitAsync(Client.Timeout);
    }

    [Fact]
    public async Task RunAsync_NoCursor_StartsAtOnceWithoutWaitingForAMessage()
    {
        // A window that would outlast the test: the reset can only arrive if the stream did not wait for a message.
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAsync(pair.Server, collection, null, new WebSocketTransportOptions { ResumeMessageTimeout = TimeSpan.FromHours(1) });

        var reset = await pair.Client.ReceiveAsync();

        Assert.True(reset.IsReset);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
    }

    [Fact]
    public async Task RunAsync_FirstMessageSaysNoCursor_IgnoredAndTheStreamGoesOn()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAsync(pair.Server, collection, null, Options);
        Assert.True((await pair.Client.ReceiveAsync()).IsReset);

        await pair.Client.SendTextAsync("{\"type\":\"resume\"}");
        collection.Create("1", "{}"u8);

        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{}}]", (await pair.Client.ReceiveAsync()).Patch);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
    }

    [Fact]
    public async Task RunAsync_ResumeWithCursorAfterStreamStarted_Closes1008()
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create();
        var session = WebSocketSession.RunAsync(pair.Server, collection, "garbage", Options);
        Assert.True((await pair.Client.ReceiveAsync()).IsReset);

        await pair.Client.SendTextAsync("{\"type\":\"resume\",\"lastEventId\":\"00000000.0\"}");
        var close = await pair.Client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.CloseStatus);
        Assert.Contains("first message", close.CloseDescription, StringComparison.Ordinal);
        await session.WaitAsync(Client.Timeout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_Stopping_CloseMessageThen1001(bool upgraded)
    {
        using var collection = new LiveCollection("messages");
        using var pair = InMemoryWebSocketPair.Create(upgraded: upgraded);
        using var stopping = new CancellationTokenSource();
        var session = pair.RunSessionAsync(collection, "x", Options, stopping.Token);
        Assert.True((await pair.Client.ReceiveAsync()).IsReset);

        await stopping.CancelAsync();
        var message = await pair.Client.ReceiveAsync();
        var close = await pair.Client.ReceiveCloseAsync();

        Assert.Equal("close", message.Type);
        Assert.Equal("ShuttingDown", message.Message.GetProperty("status").GetString());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        await session.WaitAsync(Client.Timeout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_ClientStopsReading_SlowConsumerClose4000AfterWhatWasSent(bool upgraded)
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { SubscriberQueueMaxEvents = 8, CloseTimeout = TimeSpan.FromSeconds(30) });
        using var pair = InMemoryWebSocketPair.Create(pauseBytes: 4096, upgraded: upgraded);
        var session = pair.RunSessionAsync(collection, "x", new WebSocketTransportOptions { WriteTimeout = TimeSpan.FromSeconds(30) });
        Assert.True((await pair.Client.ReceiveAsync()).IsReset);

        var record = System.Text.Encoding.UTF8.GetBytes("{\"text\":\"" + new string('a', 1000) + "\"}");
        for (var i = 0; collection.SubscriberCount > 0; i++)
        {
            Assert.True(i < 10_000, "the subscriber was never closed as a slow consumer");
            collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), record);
        }

        // Whether any patch got through before the overflow depends on timing; the close must come, after them.
        var patches = 0;
        var close = await pair.Client.ReceiveCloseAsync(m =>
        {
            if (m.Type == "patch")
            {
                patches++;
            }
            else
            {
                Assert.Equal("close", m.Type);
                Assert.Equal("SlowConsumer", m.Message.GetProperty("status").GetString());
            }
        });

        Assert.Equal(RocketWebSocketProtocol.SlowConsumerCloseStatus, close.CloseStatus);
        Assert.StartsWith("slow consumer", close.CloseDescription, StringComparison.Ordinal);
        Assert.True(patches < collection.Cursor.Sequence);
        await session.WaitAsync(Client.Timeout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_ClientStopsReading_WriteTimeoutAbortsTheSocket(bool upgraded)
    {
        // The queue is far too large to overflow first: only the write timeout can end this.
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { SubscriberQueueMaxEvents = 100_000, SubscriberQueueMaxBytes = 1L << 30 });
        using var pair = InMemoryWebSocketPair.Create(pauseBytes: 4096, upgraded: upgraded);
        // Any write timeout shorter than the test's wait shows the same thing; a short one keeps the test quick.
        var session = pair.RunSessionAsync(collection, "x", new WebSocketTransportOptions { WriteTimeout = TimeSpan.FromMilliseconds(200) });
        Assert.True((await pair.Client.ReceiveAsync()).IsReset);

        // Eight times what the pipe holds unread: the server's write of them blocks for good, and the session ends only
        // when the write timeout aborts the socket.
        var record = System.Text.Encoding.UTF8.GetBytes("{\"text\":\"" + new string('a', 1000) + "\"}");
        for (var i = 0; i < 32; i++)
        {
            collection.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), record);
        }

        await session.WaitAsync(Client.Timeout);
        Assert.Equal(WebSocketState.Aborted, pair.Server.State);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Theory]
    [InlineData(true)]  // the endpoint's own upgrade: slices of the pre-built frame
    [InlineData(false)] // a plain WebSocket: fragments of one message
    public async Task LargeReset_ArrivesWholeThenLiveEvents_TheServerHandingOverAtMostASliceAtATime(bool upgraded)
    {
        using var collection = new LiveCollection("messages");
        var text = new string('r', 50_000);
        for (var i = 0; i < 60; i++)
        {
            collection.Create($"{i}", System.Text.Encoding.UTF8.GetBytes($"{{\"id\":\"{i}\",\"text\":\"{text}\"}}"));
        }

        using var pair = InMemoryWebSocketPair.Create(upgraded: upgraded);
        var session = pair.RunSessionAsync(collection, "x", Options);

        var reset = await pair.Client.ReceiveAsync();
        collection.Create("after", "{\"id\":\"after\"}"u8);
        var add = await pair.Client.ReceiveAsync();

        Assert.True(reset.IsReset);
        var records = reset.Message.GetProperty("patch")[0].GetProperty("value").GetProperty("messages");
        Assert.Equal(60, records.EnumerateObject().Count());
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{i}"), records.EnumerateObject().Select(r => r.Name));
        Assert.All(records.EnumerateObject(), r => Assert.Equal(text, r.Value.GetProperty("text").GetString()));
        Assert.Equal("[{\"op\":\"add\",\"path\":\"/messages/after\",\"value\":{\"id\":\"after\"}}]", add.Patch);
        Assert.InRange(pair.LargestServerWrite, 1, WebSocketMessageSender.SliceBytes + 14); // 14: the longest frame header
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await session.WaitAsync(Client.Timeout);
    }
}
