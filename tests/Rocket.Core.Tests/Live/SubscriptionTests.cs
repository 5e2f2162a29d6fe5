using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

public class SubscriptionTests
{
    private static LiveCollection NewCollection(Action<LiveCollectionOptions>? configure = null)
    {
        var options = new LiveCollectionOptions { Epoch = 0x00000e01 };
        configure?.Invoke(options);
        return new LiveCollection("messages", options);
    }

    private static string Id(int i) => i.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Subscribe_NoCursor_StartsWithResetToKeyedDocumentThenLive()
    {
        using var collection = NewCollection();
        collection.Create("1", """{"text":"a"}"""u8);
        collection.Create("2", """{"text":"b"}"""u8);
        var transport = new InMemoryTransport();

        using var subscription = collection.Subscribe(transport);
        collection.Delete("1");

        var events = await LiveTest.WaitForEventsAsync(transport, 2);
        Assert.True(subscription.StartedWithReset);
        Assert.Equal("00000e01.2", events[0].Cursor.ToString());
        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{"1":{"text":"a"},"2":{"text":"b"}}}}]""", events[0].Patch);
        Assert.Equal("00000e01.3", events[1].Cursor.ToString());
        LiveTest.AssertSameJson(LiveTest.Keyed(collection), LiveTest.Apply(null, events));
    }

    [Fact]
    public async Task Subscribe_EmptyCollectionNoCursor_ResetsToEmptyKeyedDocument()
    {
        using var collection = NewCollection();
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport);

        var events = await LiveTest.WaitForEventsAsync(transport, 1);

        Assert.Equal("""[{"op":"replace","path":"","value":{"messages":{}}}]""", events[0].Patch);
        Assert.Equal("00000e01.0", events[0].Cursor.ToString());
    }

    [Fact]
    public async Task Subscribe_CursorInHistory_YieldsExactlyTheEventsAfterIt()
    {
        using var collection = NewCollection();
        var cursors = Enumerable.Range(0, 5).Select(i => collection.Create(Id(i), "{}"u8)).ToList();
        var transport = new InMemoryTransport();

        using var subscription = collection.Subscribe(transport, cursors[1].ToString());
        collection.Create("5", "{}"u8);

        var events = await LiveTest.WaitForEventsAsync(transport, 4);
        Assert.False(subscription.StartedWithReset);
        Assert.Equal([3L, 4, 5, 6], events.Select(static e => e.Cursor.Sequence));
        Assert.Equal("""[{"op":"add","path":"/messages/2","value":{}}]""", events[0].Patch);
    }

    [Fact]
    public async Task Subscribe_SnapshotCursor_ThenChanges_NoGapNoDuplicate()
    {
        using var collection = NewCollection();
        collection.Create("1", "1"u8);
        var snapshot = collection.GetSnapshot();
        collection.Create("2", "2"u8);
        var transport = new InMemoryTransport();

        using var subscription = collection.Subscribe(transport, snapshot.Cursor.ToString());
        collection.Create("3", "3"u8);

        var events = await LiveTest.WaitForEventsAsync(transport, 2);
        var document = LiveTest.Apply(JsonNode.Parse(snapshot.ToKeyedJson()), events);
        LiveTest.AssertSameJson(LiveTest.Keyed(collection), document);
        Assert.Equal(2, transport.FrameCount);
    }

    [Fact]
    public async Task Subscribe_CurrentCursor_YieldsOnlyLiveEvents()
    {
        using var collection = NewCollection();
        collection.Create("1", "1"u8);
        var transport = new InMemoryTransport();

        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());
        collection.Create("2", "2"u8);

        var events = await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.Equal("""[{"op":"add","path":"/messages/2","value":2}]""", Assert.Single(events).Patch);
        Assert.Equal(collection.Cursor.Sequence - 1, subscription.StartCursor.Sequence);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("00000e02.1")]
    [InlineData("00000e01.99")]
    [InlineData("00000e01.1")]
    public async Task Subscribe_UnusableCursor_StartsWithReset(string cursor)
    {
        // History of 2: cursor .1 is too old once five events exist; .99 is in the future; e02 is another epoch.
        using var collection = NewCollection(static o => o.HistoryMaxEvents = 2);
        for (var i = 0; i < 5; i++)
        {
            collection.Create(Id(i), "{}"u8);
        }

        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, cursor);

        var events = await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.True(subscription.StartedWithReset);
        Assert.StartsWith("""[{"op":"replace","path":"","value":""", events[0].Patch, StringComparison.Ordinal);
        Assert.Equal(collection.Cursor, events[0].Cursor);
        Assert.Equal(1, transport.FrameCount);
    }

    [Fact]
    public async Task Subscribe_ReplayLargerThanQueue_StartsWithReset()
    {
        using var collection = NewCollection(static o => o.SubscriberQueueMaxEvents = 3);
        var start = collection.Cursor;
        for (var i = 0; i < 5; i++)
        {
            collection.Create(Id(i), "{}"u8);
        }

        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, start.ToString());

        await LiveTest.WaitForEventsAsync(transport, 1);
        Assert.True(subscription.StartedWithReset);
    }

    [Fact]
    public async Task Subscribe_OneTransportKind_EverySubscriberGetsTheSameBytes()
    {
        using var collection = NewCollection();
        var seen = new List<ReadOnlyMemory<byte>>();
        var transports = Enumerable.Range(0, 3)
            .Select(_ => new InMemoryTransport(recordFrames: false, onFrame: frame => { lock (seen) { seen.Add(frame); } }))
            .ToList();
        var subscriptions = transports.Select(t => collection.Subscribe(t, collection.Cursor.ToString())).ToList();

        collection.Create("1", """{"a":1}"""u8);
        foreach (var transport in transports)
        {
            await transport.WaitForFramesAsync(1).WaitAsync(LiveTest.Timeout);
        }

        var arrays = seen.Select(static m => MemoryMarshal.TryGetArray(m, out var segment) ? segment.Array : null).Distinct().ToList();
        Assert.Equal(3, seen.Count);
        Assert.Single(arrays);
        subscriptions.ForEach(static s => s.Dispose());
    }

    [Fact]
    public async Task Send_PendingEvents_AreCoalescedIntoOneWrite()
    {
        using var collection = NewCollection();
        var transport = new InMemoryTransport();
        transport.Stall();
        using var subscription = collection.Subscribe(transport);
        for (var i = 0; i < 5; i++)
        {
            collection.Create(Id(i), "{}"u8);
        }

        transport.Resume();
        var events = await LiveTest.WaitForEventsAsync(transport, 6);

        // The five events that piled up behind the stalled write went out as one write (with the reset too, when the
        // loop had not yet taken it before they came).
        Assert.InRange(transport.WriteCount, 1, 2);
        Assert.Equal([0L, 1, 2, 3, 4, 5], events.Select(static e => e.Cursor.Sequence));
    }

    [Fact]
    public async Task SlowConsumer_IsClosedWithReason_OthersGetEverything_WriterNeverWaits()
    {
        using var collection = NewCollection(static o => o.SubscriberQueueMaxEvents = 8);
        var slow = new InMemoryTransport();
        slow.Stall();
        var fast = new InMemoryTransport();
        var slowSubscription = collection.Subscribe(slow);
        using var fastSubscription = collection.Subscribe(fast);

        // The fast one keeps up (each event is awaited before the next), so only the stalled one can overflow. The stalled
        // transport is never resumed: every publish returning at all shows that none waits for it (one that did would
        // never return, and the bounded wait below would fail instead of the test hanging).
        await Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                collection.Create(Id(i), """{"text":"0123456789"}"""u8);
                await fast.WaitForFramesAsync(i + 2).WaitAsync(LiveTest.Timeout);
            }
        }).WaitAsync(LiveTest.Timeout * 2);

        var reason = await slow.Closed.WaitAsync(LiveTest.Timeout);
        await slowSubscription.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal(CloseStatus.SlowConsumer, reason.Status);
        Assert.Equal("slow consumer: more than 8 events or 1048576 bytes queued; resume from your last cursor", reason.Description);
        Assert.Same(reason, slowSubscription.CloseReason);
        Assert.Equal(1, collection.SubscriberCount);

        var events = await LiveTest.WaitForEventsAsync(fast, 101);
        Assert.Equal(Enumerable.Range(0, 101).Select(static i => (long)i), events.Select(static e => e.Cursor.Sequence));
        Assert.Null(fast.CloseReason);
    }

    [Fact]
    public async Task SlowConsumer_ByBytes_IsClosed()
    {
        using var collection = NewCollection(static o => o.SubscriberQueueMaxBytes = 300);
        var slow = new InMemoryTransport();
        slow.Stall();
        using var subscription = collection.Subscribe(slow);
        for (var i = 0; i < 20; i++)
        {
            collection.Create(Id(i), """{"text":"0123456789012345678901234567890123456789"}"""u8);
        }

        var reason = await slow.Closed.WaitAsync(LiveTest.Timeout);
        Assert.Equal(CloseStatus.SlowConsumer, reason.Status);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Fact]
    public async Task Dispose_Unregisters()
    {
        using var collection = NewCollection();
        var subscriptions = Enumerable.Range(0, 10).Select(_ => collection.Subscribe(new InMemoryTransport())).ToList();
        Assert.Equal(10, collection.SubscriberCount);

        subscriptions[3].Dispose();
        Assert.Equal(9, collection.SubscriberCount);
        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }

        Assert.Equal(0, collection.SubscriberCount);
        Assert.All(subscriptions, static s => Assert.Equal(CloseStatus.Normal, s.CloseReason!.Status));
        collection.Create("1", "1"u8);
    }

    [Fact]
    public async Task Cancel_EndsNormallyAndUnregisters_LeavingTheTransportToTheHost()
    {
        using var collection = NewCollection();
        using var cancellation = new CancellationTokenSource();
        var transport = new InMemoryTransport();
        transport.Stall();
        var subscription = collection.Subscribe(transport, null, cancellation.Token);

        await cancellation.CancelAsync();
        await subscription.Completion.WaitAsync(LiveTest.Timeout);

        Assert.Equal(0, collection.SubscriberCount);
        Assert.Equal(CloseStatus.Normal, subscription.CloseReason!.Status);
        Assert.Null(transport.CloseReason);
    }

    [Fact]
    public async Task Subscribe_AlreadyCanceledToken_EndsAtOnce()
    {
        using var collection = NewCollection();
        var subscription = collection.Subscribe(new InMemoryTransport(), null, new CancellationToken(canceled: true));
        await subscription.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Fact]
    public async Task StoppingTokenCanceled_EndsWithShuttingDownAndUnregisters_ClosingTheTransportWithIt()
    {
        // The host is stopping: the client must be told (an SSE `event: close`), so the transport is closed with the reason.
        using var collection = NewCollection();
        using var aborted = new CancellationTokenSource();
        using var stopping = new CancellationTokenSource();
        var transport = new InMemoryTransport();
        var subscription = collection.Subscribe(transport, null, aborted.Token, stopping.Token);

        await stopping.CancelAsync();
        await subscription.Completion.WaitAsync(LiveTest.Timeout);

        Assert.Equal(0, collection.SubscriberCount);
        Assert.Equal(CloseStatus.ShuttingDown, subscription.CloseReason!.Status);
        Assert.Equal(CloseStatus.ShuttingDown, transport.CloseReason?.Status);
        await aborted.CancelAsync(); // the other token, after the end: nothing left to run
    }

    [Fact]
    public async Task StoppingToken_SharedByManySubscribers_EndsExactlyThem()
    {
        // The collection registers once on the first stopping token it sees and ends every subscriber that shares it;
        // a subscriber with another token, or with none, is not touched by it.
        using var collection = NewCollection();
        using var stopping = new CancellationTokenSource();
        using var otherStopping = new CancellationTokenSource();
        var shared = Enumerable.Range(0, 5).Select(_ => collection.Subscribe(new InMemoryTransport(), null, CancellationToken.None, stopping.Token)).ToList();
        var other = collection.Subscribe(new InMemoryTransport(), null, CancellationToken.None, otherStopping.Token);
        var none = collection.Subscribe(new InMemoryTransport(), null, CancellationToken.None, CancellationToken.None);
        Assert.Equal(7, collection.SubscriberCount);

        await stopping.CancelAsync();
        await Task.WhenAll(shared.Select(static s => s.Completion)).WaitAsync(LiveTest.Timeout);
        Assert.All(shared, static s => Assert.Equal(CloseStatus.ShuttingDown, s.CloseReason!.Status));
        Assert.Equal(2, collection.SubscriberCount);
        Assert.Null(other.CloseReason);
        Assert.Null(none.CloseReason);

        // A latecomer with the token already canceled ends at once; the other token still ends its own subscriber.
        var late = collection.Subscribe(new InMemoryTransport(), null, CancellationToken.None, stopping.Token);
        await late.Completion.WaitAsync(LiveTest.Timeout);
        await otherStopping.CancelAsync();
        await other.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal(1, collection.SubscriberCount);
        Assert.Null(none.CloseReason);
        none.Dispose();
    }

    [Fact]
    public async Task Subscribe_AlreadyCanceledStoppingToken_EndsAtOnce()
    {
        using var collection = NewCollection();
        var subscription = collection.Subscribe(new InMemoryTransport(), null, CancellationToken.None, new CancellationToken(canceled: true));
        await subscription.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal(0, collection.SubscriberCount);
        Assert.Equal(CloseStatus.ShuttingDown, subscription.CloseReason!.Status);
    }

    [Fact]
    public async Task Dispose_WithBothTokens_EndsAndTheTokensCanStillBeCanceled()
    {
        using var collection = NewCollection();
        using var aborted = new CancellationTokenSource();
        using var stopping = new CancellationTokenSource();
        var transport = new InMemoryTransport();
        var subscription = collection.Subscribe(transport, null, aborted.Token, stopping.Token);
        await LiveTest.WaitForEventsAsync(transport, 1);

        await subscription.DisposeAsync();
        await aborted.CancelAsync();
        await stopping.CancelAsync();

        Assert.True(subscription.Completion.IsCompletedSuccessfully);
        Assert.Equal(0, collection.SubscriberCount);
        Assert.Null(transport.CloseReason);
    }

    [Fact]
    public async Task CollectionDispose_ClosesSubscribersWithShuttingDown()
    {
        var collection = NewCollection();
        var transport = new InMemoryTransport();
        var subscription = collection.Subscribe(transport);

        collection.Dispose();

        Assert.Equal(CloseStatus.ShuttingDown, (await transport.Closed.WaitAsync(LiveTest.Timeout)).Status);
        await subscription.Completion.WaitAsync(LiveTest.Timeout);
        Assert.Equal(0, collection.SubscriberCount);
    }

    [Fact]
    public async Task FailingTransport_EndsItsSubscriptionOnly()
    {
        using var collection = NewCollection();
        var failing = new FailingTransport();
        var good = new InMemoryTransport();
        var failed = collection.Subscribe(failing);
        using var fine = collection.Subscribe(good);

        await failed.Completion.WaitAsync(LiveTest.Timeout);
        collection.Create("1", "1"u8);

        Assert.Equal(CloseStatus.TransportFailed, failed.CloseReason!.Status);
        Assert.Equal(1, collection.SubscriberCount);
        await LiveTest.WaitForEventsAsync(good, 2);
    }

    [Fact]
    public async Task Heartbeat_IdleSubscriber_GetsHeartbeatsThroughItsOwnLoop()
    {
        using var collection = NewCollection(static o => o.HeartbeatInterval = TimeSpan.FromMilliseconds(20));
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport);

        await transport.WaitForHeartbeatsAsync(2).WaitAsync(LiveTest.Timeout);
        collection.Create("1", "1"u8);

        var events = await LiveTest.WaitForEventsAsync(transport, 2);
        Assert.Equal([0L, 1], events.Select(static e => e.Cursor.Sequence));
    }

    [Fact]
    public void Options_Default_HeartbeatsAreOnWithinAProxysIdleCut()
    {
        // The exact interval is a tuning choice; what a default must give is heartbeats at all, and two of them within the
        // 30 to 60 seconds after which proxies commonly cut an idle connection.
        var interval = new LiveCollectionOptions().HeartbeatInterval;

        Assert.NotEqual(Timeout.InfiniteTimeSpan, interval);
        Assert.InRange(interval, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30));
    }

    private sealed class FailingTransport : ITransport
    {
        public TransportDescriptor Descriptor { get; } = new("failing");

        public IEventFramer Framer => InMemoryEventFramer.Instance;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("connection reset"));

        public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("connection reset"));

        public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => default;

        public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("Rocket must not close a transport that failed.");
    }
}
