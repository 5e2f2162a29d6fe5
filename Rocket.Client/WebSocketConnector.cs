using System;
using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>
/// The <c>rocket.jsonpatch.v1</c> WebSocket subprotocol over <see cref="ClientWebSocket"/>: the collection's URL with
/// <c>ws</c>/<c>wss</c>, the cursor in <c>?lastEventId=</c>, and WebSocket pings as the keep-alive.
/// </summary>
public sealed class WebSocketConnector : IStreamConnector
{
    /// <summary>The subprotocol offered.</summary>
    public const string SubProtocol = "rocket.jsonpatch.v1";

    // How long a closing handshake may take before the socket is aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Called on each socket's options before it connects (proxy, certificates, ...). Default null.</summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }

    /// <inheritdoc/>
    public string Name => "websocket";

    /// <inheritdoc/>
    public ValueTask<IStreamConnection> ConnectAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ConnectCoreAsync(request, cancellationToken);
    }

    internal static Uri ToWebSocketUri(Uri collectionUri, string? lastEventId)
    {
        var builder = new UriBuilder(collectionUri)
        {
            Scheme = collectionUri.Scheme == Uri.UriSchemeHttps ? "wss" : collectionUri.Scheme == Uri.UriSchemeHttp ? "ws" : collectionUri.Scheme,
        };
        if (lastEventId is not null)
        {
            var query = builder.Query.TrimStart('?');
            builder.Query = (query.Length > 0 ? query + "&" : string.Empty) + "lastEventId=" + Uri.EscapeDataString(lastEventId);
        }

        return builder.Uri;
    }

    private async ValueTask<IStreamConnection> ConnectCoreAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.AddSubProtocol(SubProtocol);

            // A dead server is noticed by our own pings: one every third of the idle timeout, and the rest of it to answer.
            var interval = request.Options.IdleTimeout / 3;
            socket.Options.KeepAliveInterval = interval;
            socket.Options.KeepAliveTimeout = request.Options.IdleTimeout - interval;
            foreach (var header in await request.GetHeadersAsync(cancellationToken).ConfigureAwait(false))
            {
                socket.Options.SetRequestHeader(header.Key, header.Value);
            }

            if (request.Cookies is { } cookies)
            {
                socket.Options.Cookies = cookies;
            }

            ConfigureWebSocket?.Invoke(socket.Options);
            await socket.ConnectAsync(ToWebSocketUri(request.CollectionUri, request.LastEventId), cancellationToken).ConfigureAwait(false);
            return new Connection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class Connection : IStreamConnection
    {
        private readonly ClientWebSocket _socket;
        private readonly ArrayBufferWriter<byte> _message = new(4096);
        private readonly TaskCompletionSource _readEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task? _closing;
        private int _closeStarted;

        public Connection(ClientWebSocket socket) => _socket = socket;

        public string? CloseReason { get; private set; }

        public TimeSpan? RetryInterval => null;

        public long? LastActivityTimestamp => null;

        public async ValueTask<StreamEvent?> ReadAsync(CancellationToken cancellationToken = default)
        {
            // ClientWebSocket aborts a socket whose receive is canceled, which the server sees as a connection dropped
            // mid-stream. A canceled read closes the socket with a handshake instead: the receive then ends with the
            // server's answering close frame (or, if none comes in time, when the socket is aborted).
            using var registration = cancellationToken.UnsafeRegister(static state => ((Connection)state!).CloseOnCancel(), this);
            try
            {
                return await ReadCoreAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                throw new OperationCanceledException("The read was canceled; the socket is closed.", e, cancellationToken);
            }
            finally
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    _readEnded.TrySetResult();
                    if (Volatile.Read(ref _closing) is { } closing)
                    {
                        await closing.ConfigureAwait(false);
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Volatile.Read(ref _closing) is { } closing)
            {
                await closing.ConfigureAwait(false);
            }

            await CloseAsync().ConfigureAwait(false);
            _socket.Dispose();
        }

        private async Task<StreamEvent?> ReadCoreAsync()
        {
            while (true)
            {
                _message.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(_message.GetMemory(4096), CancellationToken.None).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        CloseReason ??= $"{_socket.CloseStatus}: {_socket.CloseStatusDescription}";
                        await CloseAsync().ConfigureAwait(false);
                        return null;
                    }

                    _message.Advance(result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Text && Parse(_message.WrittenSpan) is { } item)
                {
                    return item;
                }
            }
        }

        private void CloseOnCancel()
        {
            if (Interlocked.Exchange(ref _closeStarted, 1) == 0)
            {
                Volatile.Write(ref _closing, SendCloseAsync());
            }
        }

        // The client's close while a receive is pending: sends the close frame, and aborts the socket if the pending
        // receive has not ended (with the server's answering close frame) within the close timeout, which ends it.
        private async Task SendCloseAsync()
        {
            await Task.Yield();
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                }

                await _readEnded.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                _socket.Abort();
            }
        }

        // Completes the closing handshake, whoever started it, so neither side sees a connection dropped mid-close: the
        // server's close frame is answered (CloseReceived), and the client's own close waits for the server's answer
        // (Open). Bounded: a peer that does not answer is aborted by the Dispose that follows.
        private async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                switch (_socket.State)
                {
                    case WebSocketState.CloseReceived:
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                        break;
                    case WebSocketState.Open:
                        await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                        break;
                    default:
                        break;
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer is gone or slow: the socket is aborted by Dispose either way.
            }
        }

        private StreamEvent? Parse(ReadOnlySpan<byte> message)
        {
            using var document = JsonDocument.Parse(message.ToArray(), new JsonDocumentOptions { MaxDepth = CollectionCopy.ReadDepth });
            var root = document.RootElement;
            var type = root.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "patch":
                    var id = root.TryGetProperty("id"u8, out var i) ? i.GetString() : null;
                    var patch = root.GetProperty("patch"u8);
                    return new StreamEvent(id, Encoding.UTF8.GetBytes(patch.GetRawText()));
                case "close" or "error":
                    var status = root.TryGetProperty("status"u8, out var s) ? s.GetString() : null;
                    var reason = root.TryGetProperty("reason"u8, out var r) ? r.GetString() : null;
                    CloseReason = $"{status}: {reason}";
                    return null;
                default:
                    // Unknown types are for future versions (the protocol says to ignore them).
                    return null;
            }
        }
    }
}
