using System;
using System.Buffers;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

// Parked subscribers are resumed in batches of WakeBatch.Capacity by one thread-pool item each.
public class WakeBatchTests
{
    [Fact]
    public async Task ManyParkedSubscribers_MoreThanOneBatch_EachGetsEveryEventInOrder()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("a", """{"n":0}"""u8);
        var cursor = collection.Cursor.ToString();

        // From the current cursor: nothing to replay, so every loop parks at once, and each event finds all of them parked.
        var transports = Enumerable.Range(0, (2 * WakeBatch.Capacity) + 7).Select(static _ => new InMemoryTransport()).ToArray();
        var subscriptions = transports.Select(t => collection.Subscribe(t, cursor)).ToArray();
        try
        {
            for (var n = 1; n <= 3; n++)
            {
                collection.Update("a", System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""));
                foreach (var transport in transports)
                {
                    await transport.WaitForFramesAsync(n).WaitAsync(LiveTest.Timeout);
                }
            }

            foreach (var transport in transports)
            {
                Assert.Equal([2L, 3L, 4L], LiveTest.Events(transport).Select(static e => e.Cursor.Sequence));
            }
        }
        finally
        {
            // Bounded: a loop that was taken and never resumed would never end.
            await Task.WhenAll(subscriptions.Select(static s => s.DisposeAsync().AsTask())).WaitAsync(LiveTest.Timeout);
        }
    }

    [Fact]
    public async Task FramerThatThrows_PartWayThroughTheFanOut_SubscribersAlreadyTakenStillGetTheEvent()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("a", """{"n":1}"""u8);
        var afterA = collection.Cursor.ToString();

        // The fan-out goes from the newest subscriber to the oldest: the failing one, subscribed first, comes last, after
        // a full batch and part of another have been taken from the parked ones.
        var failing = collection.Subscribe(new FailingFramerTransport(), afterA);
        var transports = Enumerable.Range(0, WakeBatch.Capacity + 3).Select(static _ => new InMemoryTransport()).ToArray();
        var subscriptions = transports.Select(t => collection.Subscribe(t, afterA)).ToArray();
        try
        {
            Assert.Throws<InvalidOperationException>(() => collection.Create("b", """{"n":2}"""u8));
            foreach (var transport in transports)
            {
                var events = await LiveTest.WaitForEventsAsync(transport, 1);
                Assert.Equal(2L, events[0].Cursor.Sequence);
            }

            // And they are parked again, not lost: the next event reaches them too.
            await failing.DisposeAsync().AsTask().WaitAsync(LiveTest.Timeout);
            collection.Create("c", """{"n":3}"""u8);
            foreach (var transport in transports)
            {
                var events = await LiveTest.WaitForEventsAsync(transport, 2);
                Assert.Equal(3L, events[1].Cursor.Sequence);
            }
        }
        finally
        {
            // Bounded: a loop that was taken and never resumed would never end.
            await Task.WhenAll(subscriptions.Select(static s => s.DisposeAsync().AsTask())).WaitAsync(LiveTest.Timeout);
        }
    }

    [Fact]
    public void Pool_KeepsTheBatchesOfALargeFanOut_AndIsBounded()
    {
        // A fan-out to 10,000 parked subscribers has this many batches in flight: a pool that kept fewer made the rest
        // anew for every event. The pool's exact size is a tuning choice; what matters is that it covers such a fan-out
        // and does not grow without end.
        const int largeFanOut = (10_000 + WakeBatch.Capacity - 1) / WakeBatch.Capacity;
        const int returned = 16_384;
        var pool = new WakeBatch.Pool();
        var batches = Enumerable.Range(0, returned).Select(_ => pool.Rent()).ToArray();
        Assert.Equal(batches.Length, batches.Distinct().Count());
        foreach (var batch in batches)
        {
            pool.Return(batch);
        }

        var kept = pool.Count;
        Assert.InRange(kept, largeFanOut, returned - 1);

        // Full: one more is let go; the ones kept are handed out again.
        pool.Return(new WakeBatch.Pool().Rent());
        Assert.Equal(kept, pool.Count);
        Assert.Contains(pool.Rent(), batches);
    }

    [Fact]
    public async Task SubscriberQueue_Append_TellsWhichCallTookTheParkedReader()
    {
        var queue = new SubscriberQueue();
        Assert.Equal(QueueWrite.Queued, queue.Enqueue(1, 10, maxEvents: 10, maxBytes: 1_000));
        Assert.True(queue.TryTake(out _, out _, out var count, out _));
        Assert.Equal(1, count);
        queue.Written(1, 10);

        var wait = queue.WaitAsync();
        Assert.False(wait.IsCompleted);
        Assert.Equal(QueueWrite.ReaderParked, queue.Enqueue(2, 10, maxEvents: 10, maxBytes: 1_000));

        // Only the first writer after the reader parked is told; the reader is not resumed until ResumeReader.
        Assert.Equal(QueueWrite.Queued, queue.Enqueue(3, 10, maxEvents: 10, maxBytes: 1_000));
        Assert.False(wait.IsCompleted);
        queue.ResumeReader();
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
        Assert.True(queue.TryTake(out _, out var first, out count, out _));
        Assert.Equal((2L, 2), (first, count));

        Assert.Equal(QueueWrite.OverLimit, queue.Enqueue(4, 10, maxEvents: 2, maxBytes: 1_000));
    }

    // An in-memory transport whose framer always throws.
    private sealed class FailingFramerTransport : ITransport, IEventFramer
    {
        private readonly InMemoryTransport _inner = new();

        public TransportDescriptor Descriptor => _inner.Descriptor;

        public IEventFramer Framer => this;

        public string Kind => "failing";

        public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output) => throw new InvalidOperationException("framer failed");

        public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default) => _inner.WriteAsync(frame, cancellationToken);

        public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default) => _inner.WriteManyAsync(frames, cancellationToken);

        public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => _inner.HeartbeatAsync(cancellationToken);

        public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default) => _inner.CloseAsync(reason, cancellationToken);
    }
}
