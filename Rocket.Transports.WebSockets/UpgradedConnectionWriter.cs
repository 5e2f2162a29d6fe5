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
/// A frame larger than <see cref="WebSocketMessageSender.SliceBytes"/> (a large reset) is written a slice at a time, each
/// slice waited for: the server copies each write into its own buffers and makes the write wait while they hold more
/// than their threshold (Kestrel's <c>MaxResponseBufferSize</c>, 64 KiB by default), so a connection holds at most a
/// slice and that threshold of it, however large the frame.
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
        var write = StartWrite(new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame), out _, cancellationToken);
        return write is null ? default : AwaitWriteAsync(write, cancellationToken);
    }

    /// <summary>Writes whole frames, in order, with as few writes as the coalescing buffers allow, and one flush.</summary>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        var write = StartWrite(frames.Span, out var started, cancellationToken);
        if (write is null)
        {
            return default;
        }

        return started == frames.Length
            ? AwaitWriteAsync(write, cancellationToken)
            : WriteRestAsync(write, frames[started..], cancellationToken);
    }

    public void Dispose() => _timeout.Dispose();

    // The socket fell behind in the middle of a batch: wait for the write in flight, then write the rest.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRestAsync(Task<Exception?> write, ReadOnlyMemory<ReadOnlyMemory<byte>> rest, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A canceled caller leaves here, and what it handed over is not read again: the write in flight owns only its
            // bytes (a shared frame, never changed, or the coalescing buffer they were copied into), not the caller's array.
            await AwaitWriteAsync(write, cancellationToken).ConfigureAwait(false);
            if (rest.IsEmpty)
            {
                return;
            }

            if (StartWrite(rest.Span, out var started, cancellationToken) is not { } next)
            {
                return;
            }

            write = next;
            rest = rest[started..];
        }
    }

    /// <summary>
    /// Writes <paramref name="frames"/> (whole frames) to the connection, then flushes once, holding its write lock.
    /// Returns <see langword="null"/> when all of it completed at once; otherwise the write in flight, which releases
    /// the lock when it ends, and in <paramref name="started"/> how many frames are written or being written.
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
                else if (started < frames.Length)
                {
                    piece = frames[started++];
                }
                else
                {
                    break; // Only empty frames were left.
                }

                var write = WritePiece(piece);
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

    private ValueTask WritePiece(ReadOnlyMemory<byte> piece) =>
        piece.Length <= WebSocketMessageSender.SliceBytes ? _connection.Inner.WriteAsync(piece, _timeout.Token) : WriteSlicedAsync(piece);

    // A frame larger than a slice: written a slice at a time, each waited for, so the server never holds the whole of it.
    // The timeout is armed afresh for each slice that waits: a large frame to a client that reads keeps going.
    private async ValueTask WriteSlicedAsync(ReadOnlyMemory<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            var n = Math.Min(frame.Length, WebSocketMessageSender.SliceBytes);
            var write = _connection.Inner.WriteAsync(frame[..n], _timeout.Token);
            if (!write.IsCompletedSuccessfully)
            {
                _timeout.CancelAfter(_writeTimeout);
            }

            await write.ConfigureAwait(false);
            frame = frame[n..];
        }
    }

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
            if (!await _connection.WriteLock.WaitAsync(_writeTimeout, cancellationToken).ConfigureAwait(false))
            {
                return TimedOut();
            }
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return exception;
        }

        try
        {
            write = WritePiece(frame);
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
        catch (OperationCanceledException) when (IsTimedOut())
        {
            return TimedOut();
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return exception;
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
