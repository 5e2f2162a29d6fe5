using System;
using System.Buffers;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

public class FanOutLogTests
{
    private static LiveEvent Event(long sequence, int patchBytes = 10) =>
        new("messages", new Cursor(1, sequence), Enumerable.Repeat((byte)'x', patchBytes).ToArray(), isReset: false);

    private static FanOutLog Log(int historyEvents = 1_000, long historyBytes = 1L << 20, int queueEvents = 1_024, long queueBytes = 1L << 20) =>
        new(historyEvents, historyBytes, queueEvents, queueBytes);

    [Fact]
    public void NewLog_HoldsNoRing_GrowsByPowersOfTwo()
    {
        var log = Log();
        Assert.Equal(0, log.Capacity);
        Assert.Null(log.TryGet(1));

        log.Append(Event(1));
        Assert.Equal(16, log.Capacity);
        for (var sequence = 2L; sequence <= 17; sequence++)
        {
            log.Append(Event(sequence));
        }

        Assert.Equal(32, log.Capacity);
        Assert.Equal(17, log.RetainedCount);
        for (var sequence = 1L; sequence <= 17; sequence++)
        {
            Assert.Equal(sequence, log.TryGet(sequence)!.Cursor.Sequence);
        }
    }

    [Fact]
    public void Retains_TheLongerOfHistoryAndQueueWindow_DropsTheRest()
    {
        var log = Log(historyEvents: 3, queueEvents: 5);
        for (var sequence = 1L; sequence <= 20; sequence++)
        {
            log.Append(Event(sequence));
        }

        Assert.Equal(3, log.HistoryCount);
        Assert.Equal(5, log.RetainedCount);
        Assert.Equal(16, log.Capacity);
        Assert.Null(log.TryGet(15));
        Assert.All(Enumerable.Range(16, 5), sequence => Assert.NotNull(log.TryGet(sequence)));

        // A slot that a newer event took reads as missing, never as the newer event.
        Assert.Null(log.TryGet(20 - 16));
        Assert.Null(log.TryGet(21));
    }

    [Fact]
    public void HistoryOff_StillRetainsWhatSubscribersMayNeed()
    {
        var log = Log(historyEvents: 0, queueEvents: 4);
        for (var sequence = 1L; sequence <= 10; sequence++)
        {
            log.Append(Event(sequence));
        }

        Assert.Equal(0, log.HistoryCount);
        Assert.Equal(4, log.RetainedCount);
        Assert.NotNull(log.TryGet(7));
        Assert.Null(log.TryGet(6));
    }

    [Fact]
    public void ByteLimits_BoundBothWindows_TheNewestEventIsAlwaysInTheQueueWindow()
    {
        var log = Log(historyBytes: 100, queueBytes: 50);
        for (var sequence = 1L; sequence <= 10; sequence++)
        {
            log.Append(Event(sequence, patchBytes: 20));
        }

        // History: the newest 5 (100 bytes); queue window: the newest 2 (40 bytes, a third would make 60).
        Assert.Equal(5, log.HistoryCount);
        Assert.Equal(5, log.RetainedCount);

        // An event larger than the whole history empties it (older cursors get a reset, not a gap), and it is the only
        // event the queue window keeps, as an empty subscriber queue takes it whatever its size.
        log.Append(Event(11, patchBytes: 500));
        Assert.Equal(0, log.HistoryCount);
        Assert.Equal(1, log.RetainedCount);
        Assert.NotNull(log.TryGet(11));
        Assert.Null(log.TryGet(10));

        log.Append(Event(12, patchBytes: 20));
        Assert.Equal(1, log.HistoryCount);
        Assert.Equal(1, log.RetainedCount);
        Assert.Null(log.TryGet(11));
        Assert.Equal(12, log.Get(12).Cursor.Sequence);
    }

    [Fact]
    public async Task Subscriber_TheLogNoLongerHoldsEventsFor_IsClosedAsSlowConsumer_NeverSentAWrongEvent()
    {
        // The queue window assumes a frame is never shorter than its patch; a framer that breaks that (one byte per
        // event here) lets a stalled subscriber stay under its byte limit while the log drops its pending events.
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { Epoch = 7, HistoryMaxEvents = 0, SubscriberQueueMaxBytes = 100 });
        collection.Create("1", """{"n":0}"""u8);
        var inner = new InMemoryTransport();
        var transport = new FramedBy(TinyFramer.Instance, inner);
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());
        inner.Stall();
        for (var i = 1; i <= 10; i++)
        {
            collection.Update("1", """{"n":"a value long enough to fill the window fast"}"""u8);
        }

        inner.Resume();
        var reason = await inner.Closed.WaitAsync(LiveTest.Timeout);
        await subscription.Completion.WaitAsync(LiveTest.Timeout);

        Assert.Equal(CloseStatus.SlowConsumer, reason.Status);
        Assert.Equal(CloseStatus.SlowConsumer, subscription.CloseReason!.Status);

        // At most the first event got out (if the loop took it before the rest arrived), and only as itself.
        Assert.InRange(inner.FrameCount, 0, 1);
        Assert.All(inner.Frames, static frame => Assert.Equal([2], frame));
    }

    // Frames every event as one byte: the low byte of its sequence number.
    private sealed class TinyFramer : IEventFramer
    {
        public static readonly TinyFramer Instance = new();

        public string Kind => "tiny";

        public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
        {
            output.GetSpan(1)[0] = (byte)liveEvent.Cursor.Sequence;
            output.Advance(1);
        }
    }

    // An in-memory transport whose frames another framer makes.
    private sealed class FramedBy(IEventFramer framer, InMemoryTransport inner) : ITransport
    {
        public TransportDescriptor Descriptor => inner.Descriptor;

        public IEventFramer Framer => framer;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default) => inner.WriteAsync(frame, cancellationToken);

        public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default) => inner.WriteManyAsync(frames, cancellationToken);

        public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => inner.HeartbeatAsync(cancellationToken);

        public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default) => inner.CloseAsync(reason, cancellationToken);
    }

    [Fact]
    public async Task PublishedEvent_WithSubscriber_KeepsItsPatchInsideItsFrame_UnchangedByLaterEvents()
    {
        using var collection = new LiveCollection("messages");
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, null);
        collection.Create("a", """{"n":1}"""u8);
        collection.Create("b", """{"n":22}"""u8);
        await transport.WaitForFramesAsync(3).WaitAsync(LiveTest.Timeout);

        var first = collection.EventLog.TryGet(1)!;
        Assert.Equal("""[{"op":"add","path":"/messages/a","value":{"n":1}}]""", System.Text.Encoding.UTF8.GetString(first.Patch.Span));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(first.Patch, out var segment));
        Assert.Same(first.FindFrame(InMemoryEventFramer.Instance), segment.Array);
        Assert.True(segment.Offset > 0);

        // What the subscriber was sent is the same frame, and it decodes to the same patch.
        Assert.True(InMemoryEventFramer.TryDecode(transport.Frames[1], out var cursor, out var patch));
        Assert.Equal(first.Cursor, cursor);
        Assert.True(patch.SequenceEqual(first.Patch.Span));
    }

    [Fact]
    public void PublishedEvent_WithoutSubscriber_KeepsACopyOfItsPatch_UnchangedByLaterEvents()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("a", """{"n":1}"""u8);
        collection.Update("a", """{"n":333333}"""u8);

        var first = collection.EventLog.TryGet(1)!;
        Assert.Equal("""[{"op":"add","path":"/messages/a","value":{"n":1}}]""", System.Text.Encoding.UTF8.GetString(first.Patch.Span));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(first.Patch, out var segment));
        Assert.Equal(0, segment.Offset);
        Assert.Equal(first.Patch.Length, segment.Array!.Length);
    }

    [Fact]
    public void KeepPatch_FrameWithoutThePatchAsItIs_KeepsACopy()
    {
        var scratch = """[{"op":"remove","path":"/m/a"}]"""u8.ToArray();
        var liveEvent = new LiveEvent("m", new Cursor(1, 1), scratch.AsMemory());
        liveEvent.KeepPatch("""[{"op":"remove","path":"/m/b"}]"""u8.ToArray());
        scratch.AsSpan().Clear();
        Assert.Equal("""[{"op":"remove","path":"/m/a"}]""", System.Text.Encoding.UTF8.GetString(liveEvent.Patch.Span));
    }

    [Fact]
    public async Task FramerThatThrows_LeavesTheEventLoggedWithAPatchOfItsOwn_LaterSubscribersReplayIt()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("a", """{"n":1}"""u8);
        var afterA = collection.Cursor.ToString();
        var failing = new FramedBy(ThrowingFramer.Instance, new InMemoryTransport());
        var subscription = collection.Subscribe(failing, afterA);

        // The change is applied and logged; the framer's exception reaches the caller, as it always has.
        Assert.Throws<InvalidOperationException>(() => collection.Create("b", """{"n":2}"""u8));
        await subscription.DisposeAsync();
        collection.Create("c", """{"n":3}"""u8);

        Assert.Equal("""[{"op":"add","path":"/messages/b","value":{"n":2}}]""", System.Text.Encoding.UTF8.GetString(collection.EventLog.TryGet(2)!.Patch.Span));
        var transport = new InMemoryTransport();
        using var replay = collection.Subscribe(transport, afterA);
        await transport.WaitForFramesAsync(2).WaitAsync(LiveTest.Timeout);
        Assert.Equal([2L, 3L], LiveTest.Events(transport).Select(static e => e.Cursor.Sequence));
    }

    private sealed class ThrowingFramer : IEventFramer
    {
        public static readonly ThrowingFramer Instance = new();

        public string Kind => "throwing";

        public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output) => throw new InvalidOperationException("framer failed");
    }
}
