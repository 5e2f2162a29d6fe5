using System;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The write path over a plain <see cref="WebSocket"/> (ASP.NET Core's over HTTP/2, one a custom server made, an
/// in-memory pair): each event is a text message sent with <see cref="WebSocket.SendAsync(ReadOnlyMemory{byte}, WebSocketMessageType, bool, CancellationToken)"/>,
/// bounded by the write timeout. A message larger than <see cref="SliceBytes"/> is sent as fragments of that size.
/// </summary>
/// <remarks>
/// A WebSocket copies each send into a send buffer of the send's size before writing it (System.Net's rents one), so a
/// 24 MiB reset sent whole would cost each connection 24 MiB while it is sent; in fragments it costs one fragment. The
/// client reads the fragments as one message (RFC 6455 section 5.4).
/// </remarks>
internal sealed class WebSocketMessageSender : IDisposable
{
    /// <summary>
    /// The most bytes of a message handed to the WebSocket (or, on an upgraded connection, to the server) at once: what
    /// one connection holds of a large frame while it is sent.
    /// </summary>
    internal const int SliceBytes = 64 * 1024;

    private readonly WebSocket _socket;
    private readonly TimeSpan _writeTimeout;
    private readonly CancellationTokenSource _timeout = new();

    // A send the caller stopped waiting for (its token was canceled), which the next send waits for.
    private Task _abandoned = Task.CompletedTask;

    public WebSocketMessageSender(WebSocket socket, TimeSpan writeTimeout)
    {
        _socket = socket;
        _writeTimeout = writeTimeout;
    }

    /// <summary>Sends each frame's payload as its own message, in order.</summary>
    public async ValueTask SendManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            // The WebSocket writes its own header.
            await SendAsync(WebSocketFrame.GetPayload(frames.Span[i]), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends one text message. A canceled caller returns at once while the send goes on (canceling it would abort the
    /// socket), bounded by the write timeout; the next send waits for it.
    /// </summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
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

    /// <summary>Waits for a send the caller stopped waiting for, so a close frame does not overtake it.</summary>
    public Task WaitForAbandonedAsync(CancellationToken cancellationToken)
    {
        var abandoned = _abandoned;
        if (abandoned.IsCompleted)
        {
            // If it failed, the socket is aborted and the next send fails on its own.
            return Task.CompletedTask;
        }

        return abandoned.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="message"/> as one text message in fragments of at most <see cref="SliceBytes"/>, arming
    /// <paramref name="timeout"/> afresh for each: a large message to a client that reads keeps going, while one that
    /// stops reading is cut off within the write timeout.
    /// </summary>
    internal static async ValueTask SendFragmentsAsync(WebSocket socket, ReadOnlyMemory<byte> message, CancellationTokenSource timeout, TimeSpan writeTimeout)
    {
        do
        {
            var n = Math.Min(message.Length, SliceBytes);
            timeout.CancelAfter(writeTimeout);

            // Text for every fragment: the WebSocket sends the ones after the first as continuations.
            await socket.SendAsync(message[..n], WebSocketMessageType.Text, endOfMessage: n == message.Length, timeout.Token).ConfigureAwait(false);
            message = message[n..];
        }
        while (!message.IsEmpty);
    }

    public void Dispose() => _timeout.Dispose();

    private async ValueTask SendAfterAbandonedAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await WaitForAbandonedAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
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
        try
        {
            if (message.Length <= SliceBytes)
            {
                _timeout.CancelAfter(_writeTimeout);
                await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await SendFragmentsAsync(_socket, message, _timeout, _writeTimeout).ConfigureAwait(false);
            }
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
