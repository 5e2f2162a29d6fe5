using System;
using System.Buffers;
using System.IO;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The write side of one WebSocket connection speaking <c>rocket.jsonpatch.v1</c>. Over any <see cref="WebSocket"/>
/// (ASP.NET Core's, <see cref="WebSocket.CreateFromStream(System.IO.Stream, WebSocketCreationOptions)"/> in a custom
/// server, an in-memory pair in tests) each event is sent as one text message. On a connection the endpoint upgraded
/// itself, the pre-framed events of a batch (<see cref="WebSocketEventFramer"/>) are written to the connection as they are,
/// copied together into a shared buffer (one write per 4 KiB) when one is free, and flushed once.
/// </summary>
/// <remarks>
/// <para>
/// Every write is bounded by the write timeout; when it expires the socket is aborted and the write throws
/// <see cref="TimeoutException"/>. When the caller's token is canceled, the write returns at once but the write in
/// flight is left to finish (bounded by the same timeout) rather than canceled, because canceling a write aborts the
/// connection (a System.Net WebSocket aborts itself, Kestrel aborts a connection whose flush is canceled): so a close
/// frame can still follow it, e.g. to a slow consumer.
/// </para>
/// <para>
/// <see cref="HeartbeatAsync"/> sends nothing: the keep-alive is the WebSocket's own ping (set where the socket is
/// accepted or created, <see cref="WebSocketTransportOptions.KeepAliveInterval"/>), which proxies see as traffic, which
/// detects a dead peer, and which browsers answer without troubling the page.
/// </para>
/// <para>
/// The receive side (client messages, the client's close) is <see cref="WebSocketSession"/>'s.
/// </para>
/// </remarks>
public sealed class WebSocketTransport : ITransport, IDisposable
{
    private static readonly TransportDescriptor WebSocketDescriptor = new("websocket");

    private readonly WebSocket _socket;
    private readonly WebSocketConnectionStream? _connection;
    private readonly CoalescingBuffers _buffers;
    private readonly TimeSpan _writeTimeout;
    private readonly CancellationTokenSource _timeout = new();
    private Task _abandoned = Task.CompletedTask;
    private int _closing;

    /// <summary>Creates a transport that writes to <paramref name="webSocket"/>, which it does not own or dispose.</summary>
    /// <param name="webSocket">An open WebSocket.</param>
    /// <param name="writeTimeout">The longest one send may take. Default 10 s (<see cref="WebSocketTransportOptions.WriteTimeout"/>).</param>
    public WebSocketTransport(WebSocket webSocket, TimeSpan? writeTimeout = null)
        : this(webSocket, null, writeTimeout)
    {
    }

    /// <summary>
    /// Creates a transport that writes pre-framed events straight to <paramref name="connection"/>, the stream
    /// <paramref name="webSocket"/> was created over; the WebSocket still writes its own control frames and the close.
    /// </summary>
    internal WebSocketTransport(WebSocket webSocket, WebSocketConnectionStream? connection, TimeSpan? writeTimeout, CoalescingBuffers? buffers = null)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        var timeout = writeTimeout ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(writeTimeout));
        _socket = webSocket;
        _connection = connection;
        _buffers = buffers ?? CoalescingBuffers.Shared;
        _writeTimeout = timeout;
    }

    /// <summary><c>websocket</c>, subprotocol <c>rocket.jsonpatch.v1</c>, bidirectional, with close reasons.</summary>
    public TransportDescriptor Descriptor => WebSocketDescriptor;

    /// <inheritdoc/>
    public IEventFramer Framer => WebSocketEventFramer.Instance;

    /// <summary>Whether a close frame was sent (or is being sent) through this transport.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return _connection is null
            ? SendAsync(WebSocketFrame.GetPayload(frame), cancellationToken)
            : WriteRawAsync(frame, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Each frame is its own text message: the subprotocol has one event per message. On a connection the endpoint
    /// upgraded itself, the frames are copied together (up to 4 KiB at a time) and written with one write, or written
    /// one by one when every coalescing buffer is in use (many sockets behind at once), then flushed once.
    /// </remarks>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return _connection is null
            ? WriteManyCoreAsync(frames, cancellationToken)
            : WriteRawManyAsync(frames, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Sends nothing: the WebSocket's own keep-alive pings keep the connection alive (see the type's remarks).</remarks>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : default;

    /// <summary>
    /// Sends <c>{"type":"close","status":"…","code":N,"reason":"…"}</c>, then a close frame with the code for
    /// <paramref name="reason"/> (<see cref="CloseStatus.SlowConsumer"/> 4000, <see cref="CloseStatus.ShuttingDown"/>
    /// 1001, <see cref="CloseStatus.Expired"/> 4001, otherwise 1000) and the reason cut to 123 bytes. Does not wait for the client's close frame (the session's
    /// receive loop sees it). Only the first close of a transport sends anything.
    /// </summary>
    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var code = reason.Status switch
        {
            CloseStatus.SlowConsumer => RocketWebSocketProtocol.SlowConsumerCloseStatus,
            CloseStatus.ShuttingDown => WebSocketCloseStatus.EndpointUnavailable,
            CloseStatus.Expired => RocketWebSocketProtocol.ExpiredCloseStatus,
            _ => WebSocketCloseStatus.NormalClosure,
        };
        return SendCloseAsync("close", reason.Status.ToString(), code, reason.Description, cancellationToken);
    }

    /// <summary>Cuts a reason to what a close frame can carry (123 bytes of UTF-8), marking the cut with "...".</summary>
    internal static string TruncateReason(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= RocketWebSocketProtocol.MaxCloseReasonBytes)
        {
            return reason;
        }

        // Cut at a character boundary: a close reason must be valid UTF-8 (RFC 6455 section 5.5.1).
        var length = reason.Length;
        while (length > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > RocketWebSocketProtocol.MaxCloseReasonBytes - 3)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return string.Concat(reason.AsSpan(0, length), "...");
    }

    /// <summary>
    /// Sends the JSON message <c>{"type":type,"status":status,"code":N,"reason":reason}</c> and a close frame with
    /// <paramref name="code"/>; the session uses it with type <c>error</c> for a client's broken message.
    /// </summary>
    internal async ValueTask SendCloseAsync(string type, string status, WebSocketCloseStatus code, string reason, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        var message = new ArrayBufferWriter<byte>(128 + (reason.Length * 3));
        using (var json = new Utf8JsonWriter(message, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, type);
            json.WriteString("status"u8, status);
            json.WriteNumber("code"u8, (int)code);
            json.WriteString("reason"u8, reason);
            json.WriteEndObject();
        }

        if (_connection is null)
        {
            await SendAsync(message.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Once per connection: a frame of its own rather than a rented buffer.
            var frame = new byte[WebSocketFrame.GetHeaderLength(message.WrittenCount) + message.WrittenCount];
            var header = WebSocketFrame.WriteTextHeader(frame, message.WrittenCount);
            message.WrittenSpan.CopyTo(frame.AsSpan(header));
            await WriteRawAsync(frame, cancellationToken).ConfigureAwait(false);
        }

        // CloseOutputAsync, not CloseAsync: the receive loop is the one reader, and it sees the client's close frame.
        // Canceling it (the close timeout) aborts the socket, which is the right end for a peer that does not read.
        await _socket.CloseOutputAsync(code, TruncateReason(reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the response to a client's close frame (the same code, as RFC 6455 section 5.5.1 asks), once.</summary>
    internal async ValueTask AnswerCloseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0 || _socket.State != WebSocketState.CloseReceived)
        {
            return;
        }

        await WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the write timer. The WebSocket is not disposed: it belongs to whoever gave it.</summary>
    public void Dispose() => _timeout.Dispose();

    private async ValueTask WriteManyCoreAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            // The WebSocket writes its own header.
            await SendAsync(WebSocketFrame.GetPayload(frames.Span[i]), cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask WriteRawAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var write = StartRawWrite(new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame), out _, cancellationToken);
        return write is null ? default : AwaitRawWriteAsync(write, cancellationToken);
    }

    private ValueTask WriteRawManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        var write = StartRawWrite(frames.Span, out var started, cancellationToken);
        if (write is null)
        {
            return default;
        }

        return started == frames.Length
            ? AwaitRawWriteAsync(write, cancellationToken)
            : WriteRawRestAsync(write, frames[started..], cancellationToken);
    }

    // The socket fell behind in the middle of a batch: wait for the write in flight, then write the rest.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRawRestAsync(Task<Exception?> write, ReadOnlyMemory<ReadOnlyMemory<byte>> rest, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A canceled caller leaves here, and what it handed over is not read again: the write in flight owns only its
            // bytes (a shared frame, never changed, or the coalescing buffer they were copied into), not the caller's array.
            await AwaitRawWriteAsync(write, cancellationToken).ConfigureAwait(false);
            if (rest.IsEmpty)
            {
                return;
            }

            if (StartRawWrite(rest.Span, out var started, cancellationToken) is not { } next)
            {
                return;
            }

            write = next;
            rest = rest[started..];
        }
    }

    /// <summary>
    /// Writes <paramref name="frames"/> (whole frames) to the upgraded connection, then flushes once, holding its write
    /// lock. Returns <see langword="null"/> when all of it completed at once; otherwise the write in flight, which
    /// releases the lock when it ends, and in <paramref name="started"/> how many frames are written or being written.
    /// </summary>
    /// <remarks>
    /// Several frames are copied together into one of the <see cref="CoalescingBuffers"/> and written with one write, up
    /// to its size at a time (Kestrel flushes each write of an upgraded stream, waking the socket sender). When none is
    /// free, or for a frame larger than one, a frame is written as it is: the server copies each write into its own
    /// buffers, so nothing is allocated either way.
    /// </remarks>
    private Task<Exception?>? StartRawWrite(ReadOnlySpan<ReadOnlyMemory<byte>> frames, out int started, CancellationToken cancellationToken)
    {
        var connection = _connection!;
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            started = frames.Length;
            return Task.FromResult<Exception?>(new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {_socket.State}; no more events can be sent."));
        }

        if (!connection.WriteLock.Wait(0, CancellationToken.None))
        {
            // The WebSocket is writing a control frame (a pong, a ping, the close): rare, so the slow path, a frame at a time.
            started = 1;
            return WriteRawContendedAsync(frames[0], cancellationToken);
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

                var write = connection.Inner.WriteAsync(piece, _timeout.Token);
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
                    return FinishRawWriteAsync(write, null, held);
                }

                write.GetAwaiter().GetResult();
            }

            if (buffer is not null)
            {
                _buffers.Return(buffer);
                buffer = null;
            }

            // Kestrel sends what each write of an upgraded stream carries; other servers may buffer it until a flush.
            var flush = connection.Inner.FlushAsync(_timeout.Token);
            if (!flush.IsCompletedSuccessfully)
            {
                return FinishRawWriteAsync(default, flush, null);
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
            EndRawWrite();
            return Task.FromResult<Exception?>(exception);
        }

        EndRawWrite();
        return null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitRawWriteAsync(Task<Exception?> write, CancellationToken cancellationToken)
    {
        // The write itself is never canceled (see the type's remarks): the caller stops waiting for it.
        var error = await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private async Task<Exception?> WriteRawContendedAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var connection = _connection!;
        ValueTask write;
        try
        {
            if (!await connection.WriteLock.WaitAsync(_writeTimeout, cancellationToken).ConfigureAwait(false))
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
            write = connection.Inner.WriteAsync(frame, _timeout.Token);
        }
#pragma warning disable CA1031 // Handed to the caller as the write's outcome.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            EndRawWrite();
            return exception;
        }

        return await FinishRawWriteAsync(write, null, null).ConfigureAwait(false);
    }

    // Never faults: the outcome is the returned exception, so nothing goes unobserved when the caller stopped waiting.
    private async Task<Exception?> FinishRawWriteAsync(ValueTask write, Task? flush, byte[]? coalesced)
    {
        try
        {
            // Armed only now that the write waits: Kestrel watches the token while its flush is blocked, and aborts the
            // connection when it fires. No timer change per write on the fast path.
            _timeout.CancelAfter(_writeTimeout);
            await write.ConfigureAwait(false);
            await (flush ?? _connection!.Inner.FlushAsync(_timeout.Token)).ConfigureAwait(false);
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

            EndRawWrite();
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

    private void EndRawWrite() => _connection!.WriteLock.Release();

    private ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!_abandoned.IsCompleted)
        {
            return SendAfterAbandonedAsync(message, cancellationToken);
        }

        var send = SendWithTimeoutAsync(message);
        if (send.IsCompletedSuccessfully)
        {
            return default;
        }

        return AwaitSendAsync(send, cancellationToken);
    }

    private async ValueTask SendAfterAbandonedAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private Task WaitForAbandonedAsync(CancellationToken cancellationToken)
    {
        var abandoned = _abandoned;
        if (abandoned.IsCompleted)
        {
            // If it failed, the socket is aborted and the next send fails on its own.
            return Task.CompletedTask;
        }

        return abandoned.WaitAsync(cancellationToken);
    }

    private ValueTask AwaitSendAsync(ValueTask send, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return send;
        }

        var task = send.AsTask();
        _abandoned = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new ValueTask(task.WaitAsync(cancellationToken));
    }

    private async ValueTask SendWithTimeoutAsync(ReadOnlyMemory<byte> message)
    {
        _timeout.CancelAfter(_writeTimeout);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_timeout.IsCancellationRequested)
        {
            // A System.Net WebSocket aborts itself when a send is canceled; others may not, so make sure.
            _socket.Abort();
            throw new TimeoutException(
                $"A WebSocket send did not complete within {_writeTimeout.TotalSeconds} s (the client stopped reading); the connection was aborted.");
        }
        finally
        {
            // One timer per connection, re-armed per send: no allocation per write.
            _timeout.TryReset();
        }
    }
}
