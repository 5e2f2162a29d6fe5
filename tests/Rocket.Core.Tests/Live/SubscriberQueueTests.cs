using System;
using System.Linq;
using System.Threading.Tasks;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Core.Tests.Live;

public class SubscriberQueueTests
{
    private static ReadOnlyMemory<byte> Frame(int i) => new byte[] { (byte)i };

    [Fact]
    public void NewQueue_HoldsNoArray()
    {
        var queue = new SubscriberQueue();
        Assert.Equal(0, queue.Capacity);
        ReadOnlyMemory<byte>[] batch = [];
        Assert.False(queue.TryTake(ref batch, out _, out _, out _));
    }

    [Fact]
    public void TryWrite_GrowsByDoubling_TakeSwapsArraysWithoutCopy()
    {
        var queue = new SubscriberQueue();
        for (var i = 0; i < 9; i++)
        {
            Assert.True(queue.TryWrite(Frame(i)));
        }

        Assert.Equal(16, queue.Capacity);
        ReadOnlyMemory<byte>[] batch = [];
        Assert.True(queue.TryTake(ref batch, out var count, out var heartbeat, out _));
        Assert.Equal(9, count);
        Assert.False(heartbeat);
        Assert.Equal(Enumerable.Range(0, 9), batch.Take(count).Select(static f => (int)f.Span[0]));

        // The reader's (empty) array became the pending one.
        Assert.Equal(0, queue.Capacity);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void LoneFrame_HeldWithoutAnArray_SecondFrameMovesItIntoOne()
    {
        var queue = new SubscriberQueue();
        ReadOnlyMemory<byte>[] batch = [];

        // One frame at a time: never an array on either side.
        for (var i = 0; i < 3; i++)
        {
            Assert.True(queue.TryWrite(Frame(i)));
            Assert.Equal(1, queue.Count);
            Assert.Equal(0, queue.Capacity);
            Assert.True(queue.TryTake(ref batch, out var count, out _, out var single));
            Assert.Equal(1, count);
            Assert.Equal(i, single!.Value.Span[0]);
            Assert.Empty(batch);
            Assert.Equal(0, queue.Count);
        }

        // A second frame behind a lone one: both go into an array, in order, handed over as a batch.
        queue.TryWrite(Frame(7));
        queue.TryWrite(Frame(8));
        queue.TryWrite(Frame(9));
        Assert.Equal(3, queue.Count);
        Assert.Equal(SubscriberQueue.InitialCapacity, queue.Capacity);
        Assert.True(queue.TryTake(ref batch, out var many, out _, out var none));
        Assert.Null(none);
        Assert.Equal([7, 8, 9], batch.Take(many).Select(static f => (int)f.Span[0]));

        // The queue got the reader's old array, which was empty: the next lone frame waits in the field again.
        Array.Clear(batch);
        queue.TryWrite(Frame(10));
        Assert.True(queue.TryTake(ref batch, out _, out _, out var lone));
        Assert.Equal(10, lone!.Value.Span[0]);

        // After a second batch the queue holds the reader's earlier array (not empty): a lone frame waits in it, and is
        // still handed over on its own, the arrays staying where they are.
        queue.TryWrite(Frame(11));
        queue.TryWrite(Frame(12));
        Assert.True(queue.TryTake(ref batch, out var two, out _, out _));
        Assert.Equal([11, 12], batch.Take(two).Select(static f => (int)f.Span[0]));
        Array.Clear(batch);
        var readerArray = batch;
        queue.TryWrite(Frame(13));
        Assert.Equal(SubscriberQueue.InitialCapacity, queue.Capacity);
        Assert.True(queue.TryTake(ref batch, out var one, out _, out var arrayed));
        Assert.Equal(1, one);
        Assert.Equal(13, arrayed!.Value.Span[0]);
        Assert.Same(readerArray, batch);
        Assert.Equal(0, queue.Count);
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
        ReadOnlyMemory<byte>[] batch = [];

        var wait = queue.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        queue.TryWrite(Frame(1));
        Assert.True(await wait.WaitAsync(LiveTest.Timeout));
        Assert.True(queue.TryTake(ref batch, out var count, out _, out var single));
        Assert.Equal(1, count);
        Assert.Equal(1, single!.Value.Span[0]);
        Assert.Empty(batch);

        wait = queue.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        queue.RequestHeartbeat();
        queue.RequestHeartbeat();
        Assert.True(await wait.WaitAsync(LiveTest.Timeout));
        Assert.True(queue.TryTake(ref batch, out count, out var heartbeat, out _));
        Assert.Equal(0, count);
        Assert.True(heartbeat);
        Assert.False(queue.TryTake(ref batch, out _, out _, out _));

        wait = queue.WaitAsync().AsTask();
        queue.Complete();
        Assert.False(await wait.WaitAsync(LiveTest.Timeout));
        Assert.False(queue.TryWrite(Frame(2)));
        Assert.False(await queue.WaitAsync());
    }

    [Fact]
    public async Task Subscription_BurstLargerThanRetainedArray_DeliversAllInOrder_LimitStillEnforced()
    {
        using var collection = new LiveCollection("messages", new LiveCollectionOptions { SubscriberQueueMaxEvents = 300 });
        collection.Create("1", """{"n":0}"""u8);
        var transport = new InMemoryTransport();
        transport.Stall();
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());

        // 200 events pile up behind the stalled write (one in flight, the rest pending): the arrays grow past what an
        // idle subscriber keeps, and everything still arrives in order once the transport moves again.
        for (var i = 1; i <= 200; i++)
        {
            collection.Update("1", System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""));
        }

        transport.Resume();
        var events = await LiveTest.WaitForEventsAsync(transport, 200);
        Assert.Equal(Enumerable.Range(2, 200).Select(static i => (long)i), events.Select(static e => e.Cursor.Sequence));
        Assert.Null(subscription.CloseReason);

        // The limit still holds after the arrays grew and were dropped: 300 more behind a stall close it.
        transport.Stall();
        for (var i = 0; i < 310; i++)
        {
            collection.Update("1", """{"n":-1}"""u8);
        }

        var reason = await transport.Closed.WaitAsync(LiveTest.Timeout);
        Assert.Equal(CloseStatus.SlowConsumer, reason.Status);
    }
}
