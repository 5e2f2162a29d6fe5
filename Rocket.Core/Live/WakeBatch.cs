using System.Collections.Generic;
using System.Threading;

namespace Rocket.Live;

/// <summary>
/// Subscribers an event found parked, resumed together by one thread-pool work item: each one's loop runs on that
/// thread, in turn, until it parks again or its write has to wait.
/// </summary>
/// <remarks>
/// <para>
/// Resuming each parked subscriber with a work item of its own costs a queue operation per subscriber per event, and
/// wakes pool threads that spin before they sleep again; with many subscribers and a steady trickle of events that kept
/// both cores of a small machine busy and made other work (the app's own threads) late. A batch holds up to
/// <see cref="Capacity"/> subscribers, so a fan-out to 1,000 parked subscribers queues 16 items, not 1,000, and the items
/// still spread over the cores.
/// </para>
/// <para>
/// A subscriber's write does not wait for the network: a transport copies into its connection's buffer and returns, and
/// only a connection whose buffer is full makes the loop wait (then the loop leaves the batch's thread and resumes
/// elsewhere). Batches are reused: each collection keeps the ones that come back (<see cref="Pool"/>).
/// </para>
/// </remarks>
internal sealed class WakeBatch : IThreadPoolWorkItem
{
    /// <summary>The most subscribers one batch resumes.</summary>
    public const int Capacity = 64;

    private readonly Pool _pool;
    private readonly SubscriberQueue?[] _queues = new SubscriberQueue?[Capacity];
    private int _count;

    private WakeBatch(Pool pool) => _pool = pool;

    /// <summary>Adds a queue whose reader <see cref="SubscriberQueue.Enqueue"/> found parked; true when the batch is now full.</summary>
    public bool Add(SubscriberQueue queue)
    {
        _queues[_count++] = queue;
        return _count == Capacity;
    }

    /// <summary>Hands the batch to the thread pool; the caller no longer touches it.</summary>
    public void Dispatch() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    void IThreadPoolWorkItem.Execute()
    {
        var count = _count;
        for (var i = 0; i < count; i++)
        {
            var queue = _queues[i]!;
            _queues[i] = null;
            queue.ResumeReader();
        }

        _count = 0;
        _pool.Return(this);
    }

    /// <summary>A collection's spare batches. Rented by its writer (under the collection's lock), returned by pool threads.</summary>
    public sealed class Pool
    {
        // Enough for a fan-out to 65,536 parked subscribers (about 600 B each, kept only once that many were in flight
        // at once); more are made and then let go. A subscriber is in at most one batch at a time, so the batches in
        // flight never outnumber the subscribers. Fewer would cost allocation on large fan-outs: with 128, a fan-out to
        // 10,000 (157 batches in flight) made the rest anew, about 6 KB per event (LiveFanOutBenchmarks).
        private const int MaxKept = 1024;

        private readonly Stack<WakeBatch> _spare = new();

        public WakeBatch Rent()
        {
            lock (_spare)
            {
                if (_spare.TryPop(out var batch))
                {
                    return batch;
                }
            }

            return new WakeBatch(this);
        }

        public void Return(WakeBatch batch)
        {
            lock (_spare)
            {
                if (_spare.Count < MaxKept)
                {
                    _spare.Push(batch);
                }
            }
        }

        /// <summary>How many batches are kept for reuse (for tests).</summary>
        internal int Count
        {
            get
            {
                lock (_spare)
                {
                    return _spare.Count;
                }
            }
        }
    }
}
