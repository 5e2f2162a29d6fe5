using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports;

/// <summary>
/// A transport with no connection behind it, for tests and benchmarks: it records what it is sent, counts writes and
/// heartbeats, remembers the close reason, and can be made to stall like a client that stopped reading.
/// </summary>
internal sealed class InMemoryTransport : ITransport
{
    private readonly Lock _lock = new();
    private readonly List<byte[]>? _frames;
    private readonly Action<ReadOnlyMemory<byte>>? _onFrame;
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _heartbeatWaiters = [];
    private readonly TaskCompletionSource<CloseReason> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _stall;
    private int _frameCount;
    private int _writeCount;
    private int _heartbeatCount;

    /// <summary>Creates an in-memory transport.</summary>
    /// <param name="recordFrames">
    /// Whether to keep a copy of every frame in <see cref="Frames"/>. Default <see langword="true"/>; benchmarks turn it
    /// off so the transport allocates nothing.
    /// </param>
    /// <param name="onFrame">Called with each frame as it is written (no copy), if given.</param>
    public InMemoryTransport(bool recordFrames = true, Action<ReadOnlyMemory<byte>>? onFrame = null)
    {
        _frames = recordFrames ? [] : null;
        _onFrame = onFrame;
    }

    /// <summary>The descriptor of every in-memory transport.</summary>
    public static TransportDescriptor InMemoryDescriptor { get; } =
        new("in-memory");

    /// <inheritdoc/>
    public TransportDescriptor Descriptor => InMemoryDescriptor;

    /// <inheritdoc/>
    public IEventFramer Framer => InMemoryEventFramer.Instance;

    /// <summary>The frames written so far, in order (empty when recording is off).</summary>
    public IReadOnlyList<byte[]> Frames
    {
        get
        {
            lock (_lock)
            {
                return _frames is null ? [] : [.. _frames];
            }
        }
    }

    /// <summary>How many frames were written.</summary>
    public int FrameCount => Volatile.Read(ref _frameCount);

    /// <summary>How many write calls there were (<see cref="WriteAsync"/> or <see cref="WriteManyAsync"/>), so how many flushes.</summary>
    public int WriteCount => Volatile.Read(ref _writeCount);

    /// <summary>How many heartbeats were sent.</summary>
    public int HeartbeatCount => Volatile.Read(ref _heartbeatCount);

    /// <summary>Completes with the reason when the transport is closed.</summary>
    public Task<CloseReason> Closed => _closed.Task;

    /// <summary>The reason it was closed with, or <see langword="null"/> while it is open.</summary>
    public CloseReason? CloseReason => _closed.Task.IsCompletedSuccessfully ? _closed.Task.Result : null;

    /// <summary>Makes every write wait, like a client that stopped reading, until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        lock (_lock)
        {
            _stall ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets stalled and later writes through.</summary>
    public void Resume()
    {
        TaskCompletionSource? stall;
        lock (_lock)
        {
            stall = _stall;
            _stall = null;
        }

        stall?.TrySetResult();
    }

    /// <summary>Completes when at least <paramref name="count"/> frames have been written.</summary>
    public Task WaitForFramesAsync(int count, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (_frameCount >= count)
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var stall = Volatile.Read(ref _stall);
        if (stall is null)
        {
            Deliver(new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame));
            return default;
        }

        return StalledWriteAsync(stall, frame, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var stall = Volatile.Read(ref _stall);
        if (stall is null)
        {
            Deliver(frames.Span);
            return default;
        }

        return StalledWriteManyAsync(stall, frames, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            _heartbeatCount++;
            for (var i = _heartbeatWaiters.Count - 1; i >= 0; i--)
            {
                if (_heartbeatWaiters[i].Count <= _heartbeatCount)
                {
                    (ready ??= []).Add(_heartbeatWaiters[i].Signal);
                    _heartbeatWaiters.RemoveAt(i);
                }
            }
        }

        ready?.ForEach(static signal => signal.TrySetResult());
        return default;
    }

    /// <summary>Completes when at least <paramref name="count"/> heartbeats have been sent.</summary>
    public Task WaitForHeartbeatsAsync(int count, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (_heartbeatCount >= count)
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _heartbeatWaiters.Add((count, signal));
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        _closed.TrySetResult(reason);
        return default;
    }

    private async ValueTask StalledWriteAsync(TaskCompletionSource stall, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await stall.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask StalledWriteManyAsync(TaskCompletionSource stall, ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        await stall.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await WriteManyAsync(frames, cancellationToken).ConfigureAwait(false);
    }

    private void Deliver(ReadOnlySpan<ReadOnlyMemory<byte>> frames)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            foreach (var frame in frames)
            {
                _frames?.Add(frame.ToArray());
                _onFrame?.Invoke(frame);
            }

            _frameCount += frames.Length;
            _writeCount++;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _frameCount)
                {
                    (ready ??= []).Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (ready is not null)
        {
            foreach (var signal in ready)
            {
                signal.TrySetResult();
            }
        }
    }
}
