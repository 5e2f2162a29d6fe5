using System;
using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The write side of one WebSocket connection speaking <c>rocket.jsonpatch.v1</c>, over any
/// <see cref="WebSocket"/> (ASP.NET Core's, <see cref="WebSocket.CreateFromStream(System.IO.Stream, WebSocketCreationOptions)"/>
/// in a custom server, an in-memory pair in tests): each frame is sent as one text message, as it is.
/// </summary>
/// <remarks>
/// <para>
/// Every send is bounded by the write timeout; when it expires the socket is aborted and the write throws
/// <see cref="TimeoutException"/>. When the caller's token is canceled, the write returns at once but the send in
/// flight is left to finish (bounded by the same timeout) rather than canceled, because canceling a send aborts a
/// System.Net WebSocket: so a close frame can still follow it, e.g. to a slow consumer.
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
    private static readonly TransportDescriptor WebSocketDescriptor = new(
        "websocket", null, RocketWebSocketProtocol.Subprotocol, TransportCapabilities.Bidirectional | TransportCapabilities.CloseReason);

    private readonly WebSocket _socket;
    private readonly TimeSpan _writeTimeout;
    private readonly CancellationTokenSource _timeout = new();
    private Task _abandoned = Task.CompletedTask;
    private int _closing;

    /// <summary>Creates a transport that writes to <paramref name="webSocket"/>, which it does not own or dispose.</summary>
    /// <param name="webSocket">An open WebSocket.</param>
    /// <param name="writeTimeout">The longest one send may take. Default 10 s (<see cref="WebSocketTransportOptions.WriteTimeout"/>).</param>
    public WebSocketTransport(WebSocket webSocket, TimeSpan? writeTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        var timeout = writeTimeout ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(writeTimeout));
        _socket = webSocket;
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

        return SendAsync(frame, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Each frame is its own text message: the subprotocol has one event per message.</remarks>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return WriteManyCoreAsync(frames, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Sends nothing: the WebSocket's own keep-alive pings keep the connection alive (see the type's remarks).</remarks>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : default;

    /// <summary>
    /// Sends <c>{"type":"close","status":"…","code":N,"reason":"…"}</c>, then a close frame with the code for
    /// <paramref name="reason"/> (<see cref="CloseStatus.SlowConsumer"/> 4000, <see cref="CloseStatus.ShuttingDown"/>
    /// 1001, otherwise 1000) and the reason cut to 123 bytes. Does not wait for the client's close frame (the session's
    /// receive loop sees it). Only the first close of a transport sends anything.
    /// </summary>
    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var code = reason.Status switch
        {
            CloseStatus.SlowConsumer => RocketWebSocketProtocol.SlowConsumerCloseStatus,
            CloseStatus.ShuttingDown => WebSocketCloseStatus.EndpointUnavailable,
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

        await SendAsync(message.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
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
            await SendAsync(frames.Span[i], cancellationToken).ConfigureAwait(false);
        }
    }

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
