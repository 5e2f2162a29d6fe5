using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Rocket.Live;

/// <summary>
/// The frames waiting for one subscriber: many writers (the collection's writer, its heartbeat tick, an ending), one
/// reader (the subscription's loop), which takes everything pending at once.
/// </summary>
/// <remarks>
/// <para>
/// Built for idle connections and fan-out, where a general channel costs too much: an idle queue holds no array (a
/// <c>Channel</c> keeps a 32-slot segment and two waiter objects per subscriber, about 1 KiB). A lone pending frame
/// waits in a field of its own, so a subscriber that is never more than one event behind (an idle one after its reset,
/// one at a low rate) never has an array at all. From the second pending frame on, the frames go into an array that
/// grows on demand (doubling, up to what the limits allow), and the reader swaps its drained array for the pending
/// one, so taking a batch copies nothing and allocates nothing.
/// </para>
/// <para>
/// The reader parks on the queue itself (an <see cref="IValueTaskSource{TResult}"/> reset per wait), so a wake-up
/// allocates nothing. Its continuation always runs on the thread pool, never inline: writers call in under the
/// collection's lock, which must not run a subscriber's write.
/// </para>
/// </remarks>
internal sealed class SubscriberQueue : IValueTaskSource<bool>
{
    // The first array a subscriber gets when its first event arrives: most never have more than a few pending.
    internal const int InitialCapacity = 4;

    // A batch array this large is dropped after use rather than kept by an idle subscriber (a flood's leftovers).
    internal const int RetainedCapacity = 64;

    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private ReadOnlyMemory<byte>[] _pending = [];
    private int _pendingCount;

    // The one pending frame while there is exactly one and no array to hold it: _pendingCount is 1 and _pending unused.
    private ReadOnlyMemory<byte> _single;
    private bool _hasSingle;
    private bool _heartbeat;
    private bool _completed;
    private bool _waiting;

    /// <summary>How many frames are waiting (for tests and diagnostics).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _pendingCount;
            }
        }
    }

    /// <summary>The capacity of the array holding the pending frames (for tests).</summary>
    internal int Capacity
    {
        get
        {
            lock (_lock)
            {
                return _pending.Length;
            }
        }
    }

    /// <summary>Appends a frame; false once completed. Never blocks on the reader.</summary>
    public bool TryWrite(ReadOnlyMemory<byte> frame)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            if (_pendingCount == 0 && _pending.Length == 0)
            {
                _single = frame;
                _hasSingle = true;
                _pendingCount = 1;
            }
            else
            {
                if (_pendingCount >= _pending.Length)
                {
                    // Full, or empty while the lone frame waits in its field.
                    Array.Resize(ref _pending, Math.Max(InitialCapacity, _pending.Length * 2));
                }

                if (_hasSingle)
                {
                    // A second frame: the lone one moves into the array, ahead of it.
                    _pending[0] = _single;
                    _single = default;
                    _hasSingle = false;
                }

                _pending[_pendingCount++] = frame;
            }

            wake = TakeWaiter();
        }

        Wake(wake);
        return true;
    }

    /// <summary>Asks for a heartbeat: the reader sees it with its next batch (several requests make one).</summary>
    public void RequestHeartbeat()
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _heartbeat = true;
            wake = TakeWaiter();
        }

        Wake(wake);
    }

    /// <summary>No more frames: a parked wait, and every later one, returns false. What is pending stays for the reader to drop.</summary>
    public void Complete()
    {
        bool wake;
        lock (_lock)
        {
            _completed = true;
            wake = TakeWaiter();
        }

        if (wake)
        {
            _signal.SetResult(false);
        }
    }

    /// <summary>
    /// Takes everything pending. A lone frame comes back as <paramref name="single"/> (with <paramref name="count"/> 1 and
    /// <paramref name="batch"/> untouched; otherwise it is null); two or more are handed over by swapping <paramref name="batch"/> (the
    /// reader's own array, already cleared) with the pending one. False when nothing is pending (then call
    /// <see cref="WaitAsync"/>).
    /// </summary>
    public bool TryTake(ref ReadOnlyMemory<byte>[] batch, out int count, out bool heartbeat, out ReadOnlyMemory<byte>? single)
    {
        lock (_lock)
        {
            count = _pendingCount;
            heartbeat = _heartbeat;
            single = null;
            if (count == 0 && !heartbeat)
            {
                return false;
            }

            if (_hasSingle)
            {
                single = _single;
                _single = default;
                _hasSingle = false;
            }
            else if (count == 1)
            {
                single = _pending[0];
                _pending[0] = default;
            }
            else if (count > 0)
            {
                (batch, _pending) = (_pending, batch);
            }

            _pendingCount = 0;
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
        lock (_lock)
        {
            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (_pendingCount > 0 || _heartbeat)
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

    // Outside the lock: true means more to read.
    private void Wake(bool wake)
    {
        if (wake)
        {
            _signal.SetResult(true);
        }
    }
}
