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
/// The write side of one WebSocket connection speaking <c>rocket.jsonpatch.v1</c>. Over any <see cref="WebSocket"/>
/// (ASP.NET Core's, <see cref="WebSocket.CreateFromStream(System.IO.Stream, WebSocketCreationOptions)"/> in a custom
/// server, an in-memory pair in tests) each event is sent as one text message. On a connection the endpoint upgraded
/// itself, the pre-framed events of a batch (<see cref="WebSocketEventFramer"/>) are written to the connection as they are,
/// copied together into a shared buffer when one is free, and flushed once.
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
/// A frame larger than 64 KiB (the reset of a large collection) is handed to the connection 64 KiB at a time, each part
/// waited for, so a connection holds at most that much of it (plus what the server buffers before a write waits), as
/// fragments of one message (RFC 6455 section 5.4) between which the WebSocket's pings and pongs can go. The frame
/// itself is shared by every subscriber. For a frame sent in parts, the write timeout counts from the last part the
/// client took.
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

    // The two write paths: over the WebSocket (always there, for the close), or straight to the upgraded connection.
    private readonly WebSocketMessageSender _messages;
    private readonly UpgradedConnectionWriter? _upgraded;
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
        _messages = new WebSocketMessageSender(webSocket, timeout);
        _upgraded = connection is null ? null : new UpgradedConnectionWriter(webSocket, connection, timeout, buffers ?? CoalescingBuffers.Shared);
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

        return _upgraded is null
            ? _messages.SendAsync(WebSocketFrame.GetPayload(frame), cancellationToken)
            : _upgraded.WriteAsync(frame, cancellationToken);
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

        return _upgraded is null
            ? _messages.SendManyAsync(frames, cancellationToken)
            : _upgraded.WriteManyAsync(frames, cancellationToken);
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

        if (_upgraded is null)
        {
            await _messages.SendAsync(message.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await _messages.WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Once per connection: a frame of its own rather than a rented buffer.
            var frame = new byte[WebSocketFrame.GetHeaderLength(message.WrittenCount) + message.WrittenCount];
            var header = WebSocketFrame.WriteTextHeader(frame, message.WrittenCount);
            message.WrittenSpan.CopyTo(frame.AsSpan(header));
            await _upgraded.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
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

        await _messages.WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the write timer. The WebSocket is not disposed: it belongs to whoever gave it.</summary>
    public void Dispose()
    {
        _messages.Dispose();
        _upgraded?.Dispose();
    }
}
