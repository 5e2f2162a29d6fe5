using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

public class SubscriberQueueTests
{
    private static byte[] Frame(int i) => [(byte)i];

    // An event of one byte, with no limits in the way.
    private static bool Write(SubscriberQueue queue, long sequence) => TryWrite(queue, sequence, 1, int.MaxValue, long.MaxValue);

    // Appends as the fan-out does, and resumes a parked reader on the thread pool (the fan-out batches those, WakeBatch);
    // false when the event would take the queue over a limit.
    private static bool TryWrite(SubscriberQueue queue, long sequence, int frameLength, int maxEvents, long maxBytes)
    {
        var written = queue.Enqueue(sequence, frameLength, maxEvents, maxBytes);
        if (written == QueueWrite.ReaderParked)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static q => q.ResumeReader(), queue, preferLocal: false);
        }

        return written != QueueWrite.OverLimit;
    }

    [Fact]
    public void NewQueue_HasNothingToTake()
    {
        var queue = new SubscriberQueue();
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryTake(out _, out _, out _, out _));
    }

    [Fact]
    public void TryWrite_ExtendsOneRange_TakeHandsItOverWhole()
    {
        var queue = new SubscriberQueue();
        for (var sequence = 5L; sequence < 14; sequence++)
        {
            Assert.True(Write(queue, sequence));
        }

        Assert.Equal(9, queue.Count);
        Assert.True(queue.TryTake(out var lone, out var first, out var count, out var heartbeat));
        Assert.Null(lone);
        Assert.Equal(5, first);
        Assert.Equal(9, count);
        Assert.False(heartbeat);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryTake(out _, out _, out _, out _));

        // The next range starts where the writer is now, and a replay's several events arrive as one write.
        queue.EnqueueReplay(14, 3, 3);
        Assert.True(Write(queue, 17));
        Assert.True(queue.TryTake(out _, out first, out count, out _));
        Assert.Equal(14, first);
        Assert.Equal(4, count);
    }

    [Fact]
    public void LoneFrame_GoesAheadOfTheRange()
    {
        var queue = new SubscriberQueue();
        Assert.True(queue.EnqueueReset(Frame(7)));
        Assert.True(Write(queue, 3));
        Assert.Equal(2, queue.Count);
        Assert.True(queue.TryTake(out var lone, out var first, out var count, out _));
        Assert.Equal(7, lone![0]);
        Assert.Equal(3, first);
        Assert.Equal(1, count);

        Assert.True(queue.EnqueueReset(Frame(8)));
        Assert.True(queue.TryTake(out lone, out _, out count, out _));
        Assert.Equal(8, lone![0]);
        Assert.Equal(0, count);
    }

    [Fact]
    public async Task Subscription_OneEventAtATime_AllArriveInOrder()
    {
        using var collection = new LiveCollection("messages");
        collection.Create("1", """{"n":0}"""u8);
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, null);
        await transport.WaitForFramesAsync(1).WaitAsync(LiveTest.Timeout);

        for (var i = 1; i <= 20; i++)
        {
            collection.Update("1", System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""));
            await transport.WaitForFramesAsync(1 + i).WaitAsync(LiveTest.Timeout);
        }

        var events = LiveTest.Events(transport);
        Assert.Equal(Enumerable.Range(1, 21).Select(static i => (long)i), events.Select(static e => e.Cursor.Sequence));
    }

    [Fact]
    public async Task WaitAsync_ParkedReader_IsWokenByWrite_HeartbeatAndComplete()
    {
        var queue = new SubscriberQueue();

        var wait = queue.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        Write(queue, 1);
        Assert.True(await wait.WaitAsync(LiveTest.Timeout));
        Assert.True(queue.TryTake(out _, out var first, out var count, out _));
        Assert.Equal(1, first);
        Assert.Equal(1, count);

        // A heartbeat is not asked for while an event is still being written: the event keeps the link alive.
        queue.RequestHeartbeat();
        Assert.False(queue.TryTake(out _, out _, out _, out _));
        queue.Written(1, 1);

        wait = queue.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        queue.RequestHeartbeat();
        queue.RequestHeartbeat();
        Assert.True(await wait.WaitAsync(LiveTest.Timeout));
        Assert.True(queue.TryTake(out var lone, out _, out count, out var heartbeat));
        Assert.Null(lone);
        Assert.Equal(0, count);
        Assert.True(heartbeat);
        Assert.False(queue.TryTake(out _, out _, out _, out _));

        wait = queue.WaitAsync().AsTask();
        queue.Complete();
        Assert.False(await wait.WaitAsync(LiveTest.Timeout));
        Assert.True(Write(queue, 2)); // not "over the limit": the event is dropped with the rest
        Assert.False(queue.EnqueueReset(Frame(2)));
        Assert.False(await queue.WaitAsync());
        Assert.False(queue.TryTake(out _, out _, out _, out _));
    }

    [Fact]
    public void TryWrite_KeepsTheAccount_RefusesPastEitherLimit_UntilWritten()
    {
        var queue = new SubscriberQueue();

        // An empty account takes an event larger than the byte limit (a big reset or record must still get through).
        Assert.True(TryWrite(queue, 1, 500, maxEvents: 3, maxBytes: 100));
        Assert.False(TryWrite(queue, 2, 1, maxEvents: 3, maxBytes: 100));
        Assert.Equal(1, queue.PendingEvents);

        // Taken is not written: the events still count until the transport has them.
        Assert.True(queue.TryTake(out _, out _, out var count, out _));
        Assert.Equal(1, count);
        Assert.False(TryWrite(queue, 2, 1, maxEvents: 3, maxBytes: 100));
        queue.Written(1, 500);
        Assert.Equal(0, queue.PendingEvents);

        Assert.True(TryWrite(queue, 2, 40, maxEvents: 3, maxBytes: 100));
        Assert.True(TryWrite(queue, 3, 60, maxEvents: 3, maxBytes: 100));
        Assert.False(TryWrite(queue, 4, 1, maxEvents: 3, maxBytes: 100)); // 101 bytes
        Assert.True(TryWrite(queue, 4, 0, maxEvents: 3, maxBytes: 100));
        Assert.False(TryWrite(queue, 5, 0, maxEvents: 3, maxBytes: 100)); // a fourth event
        Assert.Equal(3, queue.PendingEvents);
        Assert.True(queue.TryTake(out _, out var first, out count, out _));
        Assert.Equal(2, first);
        Assert.Equal(3, count);
    }

    [Fact]
    public async Task Subscription_BurstLargerThanOneWrite_DeliversAllInOrder_LimitStillEnforced()
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { SubscriberQueueMaxEvents = 300 });
        collection.Create("1", """{"n":0}"""u8);
        var transport = new InMemoryTransport();
        transport.Stall();
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());

        // 200 events pile up behind the stalled write (one in flight, the rest pending): more than one write's worth
        // (Subscription.MaxBatch), and everything still arrives in order once the transport moves again.
        for (var i = 1; i <= 200; i++)
        {
            collection.Update("1", System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""));
        }

        transport.Resume();
        var events = await LiveTest.WaitForEventsAsync(transport, 200);
        Assert.Equal(Enumerable.Range(2, 200).Select(static i => (long)i), events.Select(static e => e.Cursor.Sequence));
        Assert.Null(subscription.CloseReason);

        // However the loop raced the writer, no write carried more than MaxBatch frames.
        Assert.True(transport.WriteCount >= (200 + Subscription.MaxBatch - 1) / Subscription.MaxBatch, $"{transport.WriteCount} writes");

        // The limit still holds: 300 more behind a stall close it.
        transport.Stall();
        for (var i = 0; i < 310; i++)
        {
            collection.Update("1", """{"n":-1}"""u8);
        }

        var reason = await transport.Closed.WaitAsync(LiveTest.Timeout);
        Assert.Equal(CloseStatus.SlowConsumer, reason.Status);
    }
}
