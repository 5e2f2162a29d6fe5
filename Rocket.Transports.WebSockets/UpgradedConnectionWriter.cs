using System;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The write path over a connection the endpoint upgraded itself: the pre-framed events of a batch
/// (<see cref="WebSocketEventFramer"/>) are written to the connection as they are, small ones copied together into a
/// shared buffer (<see cref="CoalescingBuffers"/>) when one is free, and flushed once. The WebSocket over the same
/// connection writes only its control frames; <see cref="WebSocketConnectionStream.WriteLock"/> keeps the two apart.
/// </summary>
/// <remarks>
/// <para>
/// A frame larger than <see cref="WebSocketMessageSender.SliceBytes"/> (a large reset) is sent as fragments of that
/// size (RFC 6455 section 5.4), each written and waited for in turn: the server copies each write into its own buffers
/// and makes the write wait while they hold more than their threshold (Kestrel's <c>MaxResponseBufferSize</c>, 64 KiB by
/// default), so a connection holds at most a fragment and that threshold of it, however large the frame. The lock is
/// released between fragments, so the WebSocket's pings and pongs go out during a reset that takes longer than the
/// keep-alive timeout; no other data frame does until the message is complete.
/// </para>
/// <para>
/// A write that has to wait is bounded by the write timeout (for a sliced frame, counted afresh for each slice); when it
/// expires the socket is aborted and the write fails with <see cref="TimeoutException"/>. A canceled caller returns at
/// once and the write in flight is left to finish, because canceling it would abort the connection (Kestrel aborts a
/// connection whose flush is canceled), and a close frame can still follow it, e.g. to a slow consumer.
/// </para>
/// </remarks>
internal sealed class UpgradedConnectionWriter : IDisposable
{
    private readonly WebSocket _socket;
    private readonly WebSocketConnectionStream _connection;
    private readonly CoalescingBuffers _buffers;
    private readonly TimeSpan _writeTimeout;
    private readonly CancellationTokenSource _timeout = new();

    // The fragmented message being sent, if any: other data frames wait for it, control frames may go between its fragments.
    private Task<Exception?>? _fragmented;

    public UpgradedConnectionWriter(WebSocket socket, WebSocketConnectionStream connection, TimeSpan writeTimeout, CoalescingBuffers buffers)
    {
        _socket = socket;
        _connection = connection;
        _writeTimeout = writeTimeout;
        _buffers = buffers;
    }

    /// <summary>Writes one whole frame (header and payload) and flushes.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var write = StartWrite(new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame), out var started, cancellationToken);
        if (started == 1)
        {
            return write is null ? default : AwaitWriteAsync(write, cancellationToken);
        }

        // It waits for a fragmented message to end (rare): an array for the retry.
        return WriteRestAsync(write, new[] { frame }, cancellationToken);
    }

    /// <summary>Writes whole frames, in order, with as few writes as the coalescing buffers allow, and one flush.</summary>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        var write = StartWrite(frames.Span, out var started, cancellationToken);
        if (started == frames.Length)
        {
            return write is null ? default : AwaitWriteAsync(write, cancellationToken);
        }

        return WriteRestAsync(write, frames[started..], cancellationToken);
    }

    public void Dispose() => _timeout.Dispose();

    // The socket fell behind in the middle of a batch, a large frame was left for a write of its own, or a fragmented
    // message was being sent: wait for the write in flight, then write the rest.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRestAsync(Task<Exception?>? write, ReadOnlyMemory<ReadOnlyMemory<byte>> rest, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A canceled caller leaves here, and what it handed over is not read again: the write in flight owns only its
            // bytes (a shared frame, never changed, or the coalescing buffer they were copied into), not the caller's array.
            if (write is not null)
            {
                await AwaitWriteAsync(write, cancellationToken).ConfigureAwait(false);
            }

            if (rest.IsEmpty)
            {
                return;
            }

            write = StartWrite(rest.Span, out var started, cancellationToken);
            rest = rest[started..];
        }
    }

    /// <summary>
    /// Writes <paramref name="frames"/> (whole frames) to the connection, then flushes once, holding its write lock.
    /// Returns <see langword="null"/> when what it started completed at once; otherwise the write in flight, which
    /// releases the lock when it ends; in <paramref name="started"/> how many frames are written or being written, which
    /// may be fewer than given (a large frame is left for a write of its own, and none is started while a fragmented
    /// message is being sent).
    /// </summary>
    /// <remarks>
    /// Several frames are copied together into one coalescing buffer and written with one write, up to its size at a time
    /// (Kestrel flushes each write of an upgraded stream, waking the socket sender). When none is free, or for a frame
    /// larger than one, a frame is written as it is (sliced when larger than a slice): the server copies each write into
    /// its own buffers, so nothing is allocated either way.
    /// </remarks>
    private Task<Exception?>? StartWrite(ReadOnlySpan<ReadOnlyMemory<byte>> frames, out int started, CancellationToken cancellationToken)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            started = frames.Length;
            return Task.FromResult<Exception?>(new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {_socket.State}; no more events can be sent."));
        }

        if (!_connection.WriteLock.Wait(0, CancellationToken.None))
        {
            // The WebSocket is writing a control frame (a pong, a ping, the close): rare, so the slow path, a frame at a time.
            started = 1;
            return WriteContendedAsync(frames[0], cancellationToken);
        }

        started = 0;
        if (Volatile.Read(ref _fragmented) is { IsCompleted: false } fragmenting)
        {
            // The lock was free between two fragments of a message: no data frame may go until its last one.
            EndWrite();
            return AfterFragmentedAsync(fragmenting);
        }

        var buffer = frames.Length > 1 ? _buffers.TryRent() : null;
        try
        {
            while (started < frames.Length)
            {
                var used = 0;
                if (buffer is not null)
                {
                    while (started < frames.Length && frames[started].Length <= buffer.Length - used)
                    {
                        frames[started].Span.CopyTo(buffer.AsSpan(used));
                        used += frames[started++].Length;
                    }
                }

                ReadOnlyMemory<byte> piece;
                if (used > 0)
                {
                    piece = buffer.AsMemory(0, used);
                }
                else if (started < frames.Length && frames[started].Length > WebSocketMessageSender.SliceBytes)
                {
                    if (started > 0)
                    {
                        break; // what came before is flushed first; the large frame starts the next write
                    }

                    if (buffer is not null)
                    {
                        _buffers.Return(buffer);
                    }

                    started = 1;
                    return StartFragmented(frames[0]);
                }
                else if (started < frames.Length)
                {
                    piece = frames[started++];
                }
                else
                {
                    break; // Only empty frames were left.
                }

                var write = _connection.Inner.WriteAsync(piece, _timeout.Token);
                if (!write.IsCompletedSuccessfully)
                {
                    // The socket is behind: wait, bounded by the write timeout; the rest waits for this one, which owns
                    // the buffer if it is in it.
                    var held = used > 0 ? buffer : null;
                    if (held is null && buffer is not null)
                    {
                        _buffers.Return(buffer);
                    }

                    buffer = null;
                    return FinishWriteAsync(write, null, held);
                }

                write.GetAwaiter().GetResult();
            }

            if (buffer is not null)
            {
                _buffers.Return(buffer);
                buffer = null;
            }

            // Kestrel sends what each write of an upgraded stream carries; other servers may buffer it until a flush.
            var flush = _connection.Inner.FlushAsync(_timeout.Token);
            if (!flush.IsCompletedSuccessfully)
            {
                return FinishWriteAsync(default, flush, null);
            }
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            // A write that throws has not kept the buffer.
            if (buffer is not null)
            {
                _buffers.Return(buffer);
            }

            started = frames.Length;
            EndWrite();
            return Task.FromResult<Exception?>(exception);
        }

        EndWrite();
        return null;
    }

    // Called holding the lock, which the fragmented write releases.
    private Task<Exception?> StartFragmented(ReadOnlyMemory<byte> frame)
    {
        var write = WriteFragmentedAsync(frame);
        if (!write.IsCompleted)
        {
            Volatile.Write(ref _fragmented, write);
        }

        return write;
    }

    // A frame larger than a slice, sent as fragments of a slice each (header, then that part of the payload), each
    // waited for. The lock is held for a fragment and released between two, so the WebSocket's control frames can go;
    // the timeout is armed afresh for each write that waits, so a large frame to a client that reads keeps going.
    // Never faults: the outcome is the returned exception.
    private async Task<Exception?> WriteFragmentedAsync(ReadOnlyMemory<byte> frame)
    {
        var payload = WebSocketFrame.GetPayload(frame);
        var header = new byte[WebSocketFrame.MaxHeaderLength]; // once per large frame
        var held = true;
        try
        {
            var first = true;
            while (true)
            {
                var n = Math.Min(payload.Length, WebSocketMessageSender.SliceBytes);
                var last = n == payload.Length;
                var headerLength = WebSocketFrame.WriteFragmentHeader(header, first, last, n);
                _timeout.CancelAfter(_writeTimeout);
                await _connection.Inner.WriteAsync(header.AsMemory(0, headerLength), _timeout.Token).ConfigureAwait(false);
                _timeout.CancelAfter(_writeTimeout);
                await _connection.Inner.WriteAsync(payload[..n], _timeout.Token).ConfigureAwait(false);
                payload = payload[n..];
                first = false;
                if (last)
                {
                    break;
                }

                // RFC 6455 section 5.4: control frames may come between the fragments of a message.
                held = false;
                EndWrite();
                if (!await _connection.WriteLock.WaitAsync(_writeTimeout).ConfigureAwait(false))
                {
                    return TimedOut();
                }

                held = true;
            }

            _timeout.CancelAfter(_writeTimeout);
            await _connection.Inner.FlushAsync(_timeout.Token).ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return Outcome(exception);
        }
        finally
        {
            ResetTimeout();
            if (held)
            {
                EndWrite();
            }
        }
    }

    // Nothing written: the caller writes once the fragmented message has ended (its outcome is its own writer's).
    private static Task<Exception?> AfterFragmentedAsync(Task<Exception?> fragmenting) =>
        fragmenting.ContinueWith(static _ => (Exception?)null, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitWriteAsync(Task<Exception?> write, CancellationToken cancellationToken)
    {
        // The write itself is never canceled (see the type's remarks): the caller stops waiting for it.
        var error = await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private async Task<Exception?> WriteContendedAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        ValueTask write;
        try
        {
            while (true)
            {
                if (Volatile.Read(ref _fragmented) is { IsCompleted: false } fragmenting)
                {
                    await fragmenting.ConfigureAwait(false);
                }

                if (!await _connection.WriteLock.WaitAsync(_writeTimeout, cancellationToken).ConfigureAwait(false))
                {
                    return TimedOut();
                }

                if (Volatile.Read(ref _fragmented) is not { IsCompleted: false })
                {
                    break;
                }

                EndWrite(); // between two fragments of a message: wait for its end
            }
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return exception;
        }

        if (frame.Length > WebSocketMessageSender.SliceBytes)
        {
            return await StartFragmented(frame).ConfigureAwait(false);
        }

        try
        {
            write = _connection.Inner.WriteAsync(frame, _timeout.Token);
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            EndWrite();
            return exception;
        }

        return await FinishWriteAsync(write, null, null).ConfigureAwait(false);
    }

    // Never faults: the outcome is the returned exception, so nothing goes unobserved when the caller stopped waiting.
    private async Task<Exception?> FinishWriteAsync(ValueTask write, Task? flush, byte[]? coalesced)
    {
        try
        {
            // Armed only now that the write waits: Kestrel watches the token while its flush is blocked, and aborts the
            // connection when it fires. No timer change per write on the fast path.
            _timeout.CancelAfter(_writeTimeout);
            await write.ConfigureAwait(false);
            await (flush ?? _connection.Inner.FlushAsync(_timeout.Token)).ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return Outcome(exception);
        }
        finally
        {
            ResetTimeout();
            if (coalesced is not null)
            {
                _buffers.Return(coalesced);
            }

            EndWrite();
        }
    }

    // A write canceled by the write timeout is a timeout (the socket is aborted); anything else is what it is.
    private Exception Outcome(Exception exception) =>
        exception is OperationCanceledException && IsTimedOut() ? TimedOut() : exception;

    private TimeoutException TimedOut()
    {
        _socket.Abort();
        return new TimeoutException(
            $"A WebSocket write did not complete within {_writeTimeout.TotalSeconds} s (the client stopped reading); the connection was aborted.");
    }

    private bool IsTimedOut()
    {
        try
        {
            return _timeout.IsCancellationRequested;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private void ResetTimeout()
    {
        try
        {
            _timeout.TryReset();
        }
        catch (ObjectDisposedException)
        {
            // The session disposed the transport while a write it had stopped waiting for was still in flight.
        }
    }

    private void EndWrite() => _connection.WriteLock.Release();
}
