using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Rocket.Live;

/// <summary>
/// What is waiting for one subscriber: many writers (the collection's writer, its heartbeat tick, an ending), one
/// reader (the subscription's loop), which takes everything pending at once.
/// </summary>
/// <remarks>
/// <para>
/// The queue holds no frames of its own. The collection keeps every recent event in one log shared by all its
/// subscribers (<see cref="FanOutLog"/>), so a subscriber's pending events are a range of sequence numbers in it:
/// enqueueing an event is "the range now ends here", and a backlog of a thousand events costs a subscriber nothing
/// more than an idle one. The one frame that is not in the log, the reset a subscriber may start with, waits in a field
/// ahead of the range.
/// </para>
/// <para>
/// The queue also keeps the subscriber's account against its limits (events and framed bytes not yet taken by the
/// transport, the ones being written included), under the same lock as the range: the collection's writer makes one
/// lock round trip per subscriber per event, and no atomic operations besides.
/// </para>
/// <para>
/// The reader parks on the queue itself (an <see cref="IValueTaskSource{TResult}"/> reset per wait), so a wake-up
/// allocates nothing. Its continuation never runs inside a writer's call: writers call in under the collection's lock,
/// which must not run a subscriber's write. Either the wake-up queues it to the thread pool, or (the collection's
/// events) the writer is told the reader was parked and a <see cref="WakeBatch"/> resumes it later, with others, on a
/// thread-pool thread (<see cref="ResumeReader"/>).
/// </para>
/// </remarks>
internal sealed class SubscriberQueue : IValueTaskSource<bool>
{
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private byte[]? _lone;
    private long _first;
    private long _pendingBytes;
    private int _count;
    private int _pendingEvents;
    private bool _heartbeat;
    private bool _completed;
    private bool _waiting;

    /// <summary>How many frames are waiting, the lone one included (for tests and diagnostics).</summary>
    internal int Count
    {
        get
        {
            lock (this)
            {
                return _count + (_lone is null ? 0 : 1);
            }
        }
    }

    /// <summary>Events not yet taken by the transport (queued or being written), for the heartbeat and for tests.</summary>
    internal int PendingEvents
    {
        get
        {
            lock (this)
            {
                return _pendingEvents;
            }
        }
    }

    /// <summary>Puts a frame that is not in the log (a reset) ahead of everything else; false once completed.</summary>
    public bool EnqueueReset(byte[] frame)
    {
        bool wake;
        lock (this)
        {
            if (_completed)
            {
                return false;
            }

            Debug.Assert(_lone is null && _count == 0, "A lone frame is only ever the first thing a subscriber is sent.");
            _lone = frame;
            _pendingEvents++;
            _pendingBytes += frame.Length;
            wake = TakeWaiter();
        }

        Wake(wake);
        return true;
    }

    /// <summary>
    /// Extends the pending range by the event <paramref name="sequence"/>, whose frame is <paramref name="frameLength"/>
    /// bytes, unless that would take the pending events over <paramref name="maxEvents"/> or their bytes over
    /// <paramref name="maxBytes"/> (an empty account takes an event of any size, so a reset larger than the byte limit
    /// can still be sent): then <see cref="QueueWrite.OverLimit"/>, and the caller ends the subscription. Queued once
    /// completed (the event is dropped with the rest). Never blocks on the reader, and never wakes it:
    /// <see cref="QueueWrite.ReaderParked"/> says this call took the parked reader, and the caller must then call
    /// <see cref="ResumeReader"/> once, later, on a thread that holds no lock (the collection's fan-out gathers those into
    /// <see cref="WakeBatch"/>es, so one thread-pool item resumes many readers).
    /// </summary>
    public QueueWrite Enqueue(long sequence, int frameLength, int maxEvents, long maxBytes)
    {
        lock (this)
        {
            if (_completed)
            {
                return QueueWrite.Queued;
            }

            if (_pendingEvents > 0 && (_pendingEvents >= maxEvents || _pendingBytes + frameLength > maxBytes))
            {
                return QueueWrite.OverLimit;
            }

            _pendingEvents++;
            _pendingBytes += frameLength;
            Extend(sequence, 1);
            return TakeWaiter() ? QueueWrite.ReaderParked : QueueWrite.Queued;
        }
    }

    /// <summary>
    /// Resumes the reader that an <see cref="Enqueue"/> found parked, on this thread: its loop runs until it parks again or
    /// its write has to wait. Called once per such <see cref="Enqueue"/>, never under a lock.
    /// </summary>
    public void ResumeReader()
    {
        _signal.RunContinuationsAsynchronously = false;
        _signal.SetResult(true);
    }

    /// <summary>
    /// Extends the pending range by the events <paramref name="first"/> to <paramref name="first"/> +
    /// <paramref name="count"/> - 1 (a replay, <paramref name="bytes"/> framed, already checked against the limits).
    /// </summary>
    public void EnqueueReplay(long first, int count, long bytes)
    {
        bool wake;
        lock (this)
        {
            if (_completed)
            {
                return;
            }

            _pendingEvents += count;
            _pendingBytes += bytes;
            Extend(first, count);
            wake = TakeWaiter();
        }

        Wake(wake);
    }

    /// <summary>Frames taken off the queue have reached the transport: they no longer count against the limits.</summary>
    public void Written(int events, long bytes)
    {
        lock (this)
        {
            _pendingEvents -= events;
            _pendingBytes -= bytes;
        }
    }

    /// <summary>
    /// Asks for a heartbeat, which the reader sees with its next take (several requests make one), unless events are
    /// pending: they keep the link alive themselves.
    /// </summary>
    public void RequestHeartbeat()
    {
        bool wake;
        lock (this)
        {
            if (_completed || _pendingEvents > 0)
            {
                return;
            }

            _heartbeat = true;
            wake = TakeWaiter();
        }

        Wake(wake);
    }

    /// <summary>No more frames: a parked wait, and every later one, returns false. What is pending is dropped by the reader.</summary>
    public void Complete()
    {
        bool wake;
        lock (this)
        {
            _completed = true;
            wake = TakeWaiter();
        }

        if (wake)
        {
            _signal.RunContinuationsAsynchronously = true;
            _signal.SetResult(false);
        }
    }

    /// <summary>
    /// Takes everything pending: the lone frame, if any (<paramref name="lone"/>, otherwise null), then the range of
    /// events <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1, to be read from the
    /// log. False when nothing is pending (then call <see cref="WaitAsync"/>).
    /// </summary>
    public bool TryTake(out byte[]? lone, out long first, out int count, out bool heartbeat)
    {
        lock (this)
        {
            lone = _lone;
            first = _first;
            count = _count;
            heartbeat = _heartbeat;
            if (count == 0 && lone is null && !heartbeat)
            {
                return false;
            }

            _lone = null;
            _count = 0;
            _heartbeat = false;
            return true;
        }
    }

    /// <summary>
    /// Waits until something is pending (true) or the queue is completed (false). Only the reader calls it, and only
    /// after <see cref="TryTake"/> found nothing.
    /// </summary>
    public ValueTask<bool> WaitAsync()
    {
        lock (this)
        {
            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (_count > 0 || _lone is not null || _heartbeat)
            {
                return new ValueTask<bool>(true);
            }

            // The previous wait has been consumed (its GetResult ran), so the source can be reused.
            _signal.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _signal.Version);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    // Under the lock: the range now ends `count` events after `first`, which follows the events already pending.
    private void Extend(long first, int count)
    {
        if (_count == 0)
        {
            _first = first;
        }

        Debug.Assert(first == _first + _count, "Events reach a subscriber in sequence order, without gaps.");
        _count += count;
    }

    // Under the lock: whether this writer is the one that wakes the parked reader.
    private bool TakeWaiter()
    {
        if (!_waiting)
        {
            return false;
        }

        _waiting = false;
        return true;
    }

    // Outside the lock: true means more to read. The reader resumes on the thread pool (the caller may hold a lock).
    private void Wake(bool wake)
    {
        if (wake)
        {
            _signal.RunContinuationsAsynchronously = true;
            _signal.SetResult(true);
        }
    }
}

/// <summary>What <see cref="SubscriberQueue.Enqueue"/> did with an event.</summary>
internal enum QueueWrite
{
    /// <summary>Queued (or dropped, the queue being completed); the reader is busy or will find it.</summary>
    Queued,

    /// <summary>Queued, and the reader was parked: the caller must <see cref="SubscriberQueue.ResumeReader"/> it.</summary>
    ReaderParked,

    /// <summary>Not queued: it would take the queue over a limit, and the caller ends the subscription.</summary>
    OverLimit,
}
