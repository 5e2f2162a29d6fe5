using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Rocket.Transports.SignalR;

/// <summary>
/// The items of one <see cref="RocketHub"/> stream between the subscription that writes them and SignalR, which reads
/// them: a small bounded buffer, one writer, one reader, enumerated once. It is its own enumerator, and both sides wait
/// on sources reset per wait, so a steady stream allocates nothing here.
/// </summary>
/// <remarks>
/// <para>
/// A channel would do the same job with an allocation per wait: SignalR reads a <c>ChannelReader</c> through
/// <c>ReadAllAsync</c> with the stream's token, and a channel's wait with a cancelable token is a new operation object
/// each time the channel is empty, which for a stream that keeps up is every item (measured: about 750 B per delivery
/// at 1,000 subscribers). An <see cref="IAsyncEnumerable{T}"/> of a reference type SignalR enumerates as it is.
/// </para>
/// <para>
/// Completing the stream (<see cref="Complete"/>) lets the reader take what is buffered first, then ends it: normally,
/// or by throwing the error given (a <c>HubException</c> SignalR passes to the client). The token SignalR enumerates
/// with cancels a parked read (the client canceled the stream or went away). A write waits while the buffer is full; its
/// own token cancels that wait.
/// </para>
/// <para>
/// It locks on its buffer, which never leaves it, not on itself: the stream is handed to SignalR and to user code.
/// </para>
/// </remarks>
internal sealed class HubEventStream : IAsyncEnumerable<RocketHubEvent>, IAsyncEnumerator<RocketHubEvent>
{
    private readonly RocketHubEvent?[] _buffer;
    private readonly Signal _readable = new();
    private readonly Signal _writable = new();
    private int _head;
    private int _count;
    private bool _completed;
    private bool _enumerated;
    private ExceptionDispatchInfo? _error;
    private RocketHubEvent? _current;
    private bool _readerWaiting;
    private RocketHubEvent? _waitingItem;
    private CancellationToken _readToken;
    private CancellationTokenRegistration _readRegistration;
    private CancellationTokenRegistration _writeRegistration;

    public HubEventStream(int capacity)
    {
        Debug.Assert(capacity >= 1, "The transport checks the capacity.");
        _buffer = new RocketHubEvent?[capacity];
    }

    /// <summary>How many items wait for the reader (for tests).</summary>
    internal int Count
    {
        get
        {
            lock (_buffer)
            {
                return _count;
            }
        }
    }

    public RocketHubEvent Current => _current ?? throw new InvalidOperationException("MoveNextAsync has not returned true.");

    public IAsyncEnumerator<RocketHubEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        lock (_buffer)
        {
            if (_enumerated)
            {
                throw new InvalidOperationException("A Rocket hub stream can be enumerated once.");
            }

            _enumerated = true;
            _readToken = cancellationToken;
        }

        if (cancellationToken.CanBeCanceled)
        {
            // One registration for the stream's whole life, not one per wait.
            _readRegistration = cancellationToken.UnsafeRegister(static state => ((HubEventStream)state!).CancelRead(), this);
        }

        return this;
    }

    public ValueTask<bool> MoveNextAsync()
    {
        bool wakeWriter;
        lock (_buffer)
        {
            if (_count == 0)
            {
                if (_readToken.IsCancellationRequested)
                {
                    return ValueTask.FromCanceled<bool>(_readToken);
                }

                if (_completed)
                {
                    _current = null;
                    return _error is { } error ? ValueTask.FromException<bool>(error.SourceException) : new ValueTask<bool>(false);
                }

                _readerWaiting = true;
                return _readable.Wait();
            }

            _current = Take(out wakeWriter);
        }

        if (wakeWriter)
        {
            _writable.Set(true);
        }

        return new ValueTask<bool>(true);
    }

    public ValueTask DisposeAsync()
    {
        _readRegistration.Dispose();
        return default;
    }

    /// <summary>
    /// Adds <paramref name="item"/>: true when it is in (or handed to the waiting reader), false when the buffer is full
    /// (then <see cref="WaitToWriteAsync"/>). Throws once the stream is completed.
    /// </summary>
    public bool TryWrite(RocketHubEvent item)
    {
        bool written;
        bool wakeReader;
        lock (_buffer)
        {
            written = TryPut(item, out wakeReader);
        }

        if (wakeReader)
        {
            _readable.Set(true);
        }

        return written;
    }

    /// <summary>
    /// Waits until <paramref name="item"/>, which did not fit, is in: the reader takes it as soon as it has room. Only
    /// after <see cref="TryWrite"/> returned false, and one at a time (the transport has one writer).
    /// </summary>
    public ValueTask WaitToWriteAsync(RocketHubEvent item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ValueTask<bool> wait = default;
        bool put;
        bool wakeReader;
        lock (_buffer)
        {
            // The reader may have made room, or emptied the buffer and parked, in the meantime.
            put = TryPut(item, out wakeReader);
            if (!put)
            {
                _waitingItem = item;
                wait = _writable.Wait();
            }
        }

        if (wakeReader)
        {
            _readable.Set(true);
        }

        if (put)
        {
            return default;
        }

        // The slow path (a full buffer), so a registration per wait is acceptable.
        if (cancellationToken.CanBeCanceled)
        {
            _writeRegistration = cancellationToken.UnsafeRegister(static state => ((HubEventStream)state!).CancelWrite(), this);
        }

        return AwaitWriteAsync(wait, cancellationToken);
    }

    /// <summary>
    /// Ends the stream after what it holds: normally, or with <paramref name="error"/> for the reader. The first call
    /// wins; a writer waiting for room gets an exception.
    /// </summary>
    public void Complete(Exception? error = null)
    {
        bool wakeReader;
        bool wakeWriter;
        lock (_buffer)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _error = error is null ? null : ExceptionDispatchInfo.Capture(error);
            wakeReader = _readerWaiting;
            _readerWaiting = false;
            wakeWriter = _waitingItem is not null;
            _waitingItem = null;
        }

        if (wakeReader)
        {
            if (error is null)
            {
                _readable.Set(false);
            }
            else
            {
                _readable.Fail(error);
            }
        }

        if (wakeWriter)
        {
            _writable.Fail(new InvalidOperationException("The Rocket hub stream has ended; no more events can be written."));
        }
    }

    private async ValueTask AwaitWriteAsync(ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        try
        {
            if (!await wait.ConfigureAwait(false))
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            _writeRegistration.Dispose();
            _writeRegistration = default;
        }
    }

    // Under the lock, with items buffered: the oldest one, moving a waiting write's item in behind the rest.
    private RocketHubEvent Take(out bool wakeWriter)
    {
        var item = _buffer[_head]!;
        _buffer[_head] = null;
        _head = (_head + 1) % _buffer.Length;
        _count--;
        wakeWriter = false;
        if (_waitingItem is { } waiting)
        {
            _buffer[(_head + _count++) % _buffer.Length] = waiting;
            _waitingItem = null;
            wakeWriter = true;
        }

        return item;
    }

    // Under the lock: hands `item` to the parked reader or buffers it; false when the buffer is full. Throws once completed.
    private bool TryPut(RocketHubEvent item, out bool wakeReader)
    {
        ThrowIfCompleted();
        wakeReader = false;
        if (_readerWaiting)
        {
            Debug.Assert(_count == 0, "The reader parks only on an empty buffer.");
            _readerWaiting = false;
            _current = item;
            wakeReader = true;
            return true;
        }

        if (_count < _buffer.Length)
        {
            _buffer[(_head + _count++) % _buffer.Length] = item;
            return true;
        }

        return false;
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The Rocket hub stream has ended; no more events can be written.");
        }
    }

    private void CancelRead()
    {
        bool wake;
        lock (_buffer)
        {
            wake = _readerWaiting;
            _readerWaiting = false;
        }

        if (wake)
        {
            _readable.Fail(new OperationCanceledException(_readToken));
        }
    }

    private void CancelWrite()
    {
        bool wake;
        lock (_buffer)
        {
            wake = _waitingItem is not null;
            _waitingItem = null;
        }

        if (wake)
        {
            // false: canceled, the item was not written.
            _writable.Set(false);
        }
    }

    /// <summary>One side's wait: a source reset per wait, completed on the thread pool (never inline in the other side).</summary>
    private sealed class Signal : IValueTaskSource<bool>
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

        // Under the stream's lock; the previous wait's result has been taken.
        public ValueTask<bool> Wait()
        {
            _core.Reset();
            return new ValueTask<bool>(this, _core.Version);
        }

        public void Set(bool result) => _core.SetResult(result);

        public void Fail(Exception error) => _core.SetException(error);

        public bool GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
