using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rocket.Live;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Runs one client of a collection over an accepted <see cref="WebSocket"/> with the <c>rocket.jsonpatch.v1</c>
/// subprotocol: the optional resume message, the subscription, the receive loop, and the close. No ASP.NET Core types,
/// so a custom server (or a test over an in-memory pair) hosts it the same way the endpoint does.
/// </summary>
/// <remarks>
/// <para>
/// Two loops, as ASP.NET Core's WebSocket transports have: the subscription writes events, and a receive loop reads
/// what the client sends. The receive loop waits with a zero-byte read, so an idle connection holds no buffer; it
/// rents one only while a message is arriving, and never more than
/// <see cref="WebSocketTransportOptions.MaxIncomingMessageBytes"/>.
/// </para>
/// <para>
/// The session ends when the client closes (the close is answered), when a client message breaks the protocol (an
/// <c>error</c> message, then close 1003, 1008 or 1009), when Rocket ends the subscription (slow consumer 4000,
/// collection shutting down 1001), when <c>cancellationToken</c> fires (server shutting down, 1001), or when the
/// connection fails (it is aborted). It never throws for anything the client does.
/// </para>
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "An instance lives only inside RunAsync, which disposes its transport at the end.")]
public sealed partial class WebSocketSession
{
    private const int Awaiting = 0;
    private const int Started = 1;

    private static readonly JsonDocumentOptions MessageOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };
    private static readonly CloseReason ServerStopping =
        new(CloseStatus.ShuttingDown, "the server is shutting down; reconnect and resume from your last cursor");

    private readonly WebSocket _socket;
    private readonly WebSocketTransport _transport;
    private readonly WebSocketTransportOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<string?> _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private int _messages;

    // When the authentication the stream was opened with expires: the stream is closed then (4001).
    private DateTimeOffset? _expires;

    private WebSocketSession(WebSocket socket, WebSocketConnectionStream? connection, WebSocketTransportOptions options, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _logger = logger;
        _transport = new WebSocketTransport(socket, connection, options.WriteTimeout);
    }

    /// <summary>
    /// Serves <paramref name="collection"/>'s stream on <paramref name="webSocket"/> until the connection ends; see the
    /// type's remarks. The socket is left to the caller to dispose.
    /// </summary>
    /// <param name="webSocket">An open WebSocket, server side, with its keep-alive already set.</param>
    /// <param name="collection">The collection to stream.</param>
    /// <param name="cursor">
    /// The cursor the client gave in its request (<c>lastEventId</c> query parameter, <c>Last-Event-ID</c> header), or
    /// <see langword="null"/>: the stream starts at once, with a reset. (A client that gives its cursor in a first
    /// message is served with <see cref="RunAwaitingResumeAsync"/>.)
    /// </param>
    /// <param name="options">Limits and timeouts; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Where protocol errors and failures are logged; none by default.</param>
    /// <param name="cancellationToken">The server is stopping: the client gets close 1001 and should resume elsewhere.</param>
    /// <returns>Completes (never faults for anything the client does) when the connection is over.</returns>
    public static Task RunAsync(
        WebSocket webSocket,
        LiveCollection collection,
        string? cursor = null,
        WebSocketTransportOptions? options = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
        => Create(webSocket, collection, options, logger).RunCoreAsync(collection, cursor, awaitResume: false, cancellationToken);

    /// <summary>
    /// As <see cref="RunAsync"/> for a client that gives its cursor in its first message,
    /// <c>{"type":"resume","lastEventId":"..."}</c> (the endpoint does this for <c>?resume=message</c>): the stream waits
    /// for that message, up to <see cref="WebSocketTransportOptions.ResumeMessageTimeout"/>, then starts from its cursor
    /// (or with a reset when it has none, or none came).
    /// </summary>
    /// <returns>Completes (never faults for anything the client does) when the connection is over.</returns>
    public static Task RunAwaitingResumeAsync(
        WebSocket webSocket,
        LiveCollection collection,
        WebSocketTransportOptions? options = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
        => Create(webSocket, collection, options, logger).RunCoreAsync(collection, null, awaitResume: true, cancellationToken);

    // The public entry points' checks, at the call rather than inside the task.
    private static WebSocketSession Create(WebSocket webSocket, LiveCollection collection, WebSocketTransportOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        ArgumentNullException.ThrowIfNull(collection);
        if (webSocket.State != WebSocketState.Open)
        {
            throw new ArgumentException("The WebSocket must be open.", nameof(webSocket));
        }

        if (options is not null)
        {
            WebSocketTransportOptionsValidator.ThrowIfInvalid(options, nameof(options));
        }

        return new WebSocketSession(webSocket, null, options ?? new WebSocketTransportOptions(), logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// As <see cref="RunAsync(WebSocket, LiveCollection, string?, WebSocketTransportOptions?, ILogger?, CancellationToken)"/>,
    /// for a WebSocket created over <paramref name="connection"/>: events are written to the connection pre-framed, a
    /// batch at a time.
    /// </summary>
    internal static Task RunUpgradedAsync(
        WebSocket webSocket,
        WebSocketConnectionStream? connection,
        LiveCollection collection,
        string? cursor,
        bool awaitResume,
        WebSocketTransportOptions options,
        ILogger logger,
        CancellationToken cancellationToken,
        DateTimeOffset? expires = null)
    {
        var session = new WebSocketSession(webSocket, connection, options, logger) { _expires = expires };
        return session.RunCoreAsync(collection, cursor, awaitResume, cancellationToken);
    }

    private async Task RunCoreAsync(LiveCollection collection, string? cursor, bool awaitResume, CancellationToken stopping)
    {
        var receiving = ReceiveLoopAsync();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stoppingRegistration = stopping.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), stopped);
        try
        {
            if (awaitResume && cursor is null && _options.ResumeMessageTimeout > TimeSpan.Zero)
            {
                using var window = new CancellationTokenSource(_options.ResumeMessageTimeout);
                using var windowRegistration = window.Token.Register(static s => ((WebSocketSession)s!).CloseResumeWindow(), this);
                var first = await Task.WhenAny(_resume.Task, receiving, stopped.Task).ConfigureAwait(false);
                if (first != _resume.Task)
                {
                    Volatile.Write(ref _state, Started);
                    await EndAsync(first == receiving ? await receiving.ConfigureAwait(false) : null, null, receiving).ConfigureAwait(false);
                    return;
                }

                cursor = await _resume.Task.ConfigureAwait(false);
            }
            else
            {
                Volatile.Write(ref _state, Started);
            }

            Subscription subscription;
            try
            {
                // Not the stopping token: a stop is answered with close 1001 below, after the subscription is disposed.
                subscription = collection.Subscribe(_transport, cursor, CancellationToken.None);
                if (_expires is { } expires)
                {
                    subscription.CloseAfter(expires - DateTimeOffset.UtcNow, CloseReason.Expired);
                }
            }
            catch (ObjectDisposedException)
            {
                await EndAsync(null, CloseReason.ShuttingDown, receiving).ConfigureAwait(false);
                return;
            }
            catch (SubscriberLimitException e)
            {
                // Admitted at the door but refused at subscribe (it raced others past the limit): told, and closed.
                await EndAsync(null, new CloseReason(CloseStatus.ShuttingDown, e.Message), receiving).ConfigureAwait(false);
                return;
            }

            Task ended;
            await using (subscription.ConfigureAwait(false))
            {
                ended = await Task.WhenAny(subscription.Completion, receiving, stopped.Task).ConfigureAwait(false);
            }

            // The subscription is over (its last write and Rocket's close, if any, are done): the session alone writes now.
            if (ended == receiving)
            {
                await EndAsync(await receiving.ConfigureAwait(false), null, receiving).ConfigureAwait(false);
            }
            else if (ended == subscription.Completion && subscription.CloseReason is { } reason)
            {
                await EndAsync(null, reason, receiving).ConfigureAwait(false);
            }
            else
            {
                await EndAsync(null, null, receiving).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _socket.Abort();
            }

            // Ends with the socket: aborted or closed, the receive loop has nothing more to read.
            await receiving.ConfigureAwait(false);
            _transport.Dispose();
        }
    }

    /// <summary>
    /// Ends the connection: answers a client's close, reports a client's error, or (after a Rocket close, or with no
    /// reason meaning "server stopping") sends close 1001, then waits for the client's close frame up to the close timeout.
    /// </summary>
    private async Task EndAsync(ReceiveOutcome? outcome, CloseReason? rocketReason, Task<ReceiveOutcome> receiving)
    {
        using var timeout = new CancellationTokenSource(_options.CloseTimeout);
        try
        {
            switch (outcome?.Kind)
            {
                case ReceiveOutcomeKind.ClientClosed:
                    await _transport.AnswerCloseAsync(timeout.Token).ConfigureAwait(false);
                    return;
                case ReceiveOutcomeKind.Failed:
                    return;
                case ReceiveOutcomeKind.Violation:
                    var violation = outcome.Value;
                    Log.ProtocolViolation(_logger, (int)violation.Code, violation.Reason);
                    await _transport.SendCloseAsync("error", violation.Code.ToString(), violation.Code, violation.Reason, timeout.Token).ConfigureAwait(false);
                    await DrainUntilCloseAsync(timeout.Token).ConfigureAwait(false);
                    return;
                default:
                    break;
            }

            switch (rocketReason?.Status)
            {
                case CloseStatus.TransportFailed:
                    return;
                case CloseStatus.SlowConsumer or CloseStatus.ShuttingDown or CloseStatus.Expired:
                    // Rocket has sent its close already (or tried to); a no-op if so.
                    await _transport.CloseAsync(rocketReason, timeout.Token).ConfigureAwait(false);
                    break;
                case CloseStatus.Normal:
                    await _transport.CloseAsync(rocketReason, timeout.Token).ConfigureAwait(false);
                    break;
                default:
                    await _transport.CloseAsync(ServerStopping, timeout.Token).ConfigureAwait(false);
                    break;
            }

            // The receive loop sees the client's close frame (or fails when the socket is aborted).
            await receiving.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Log.CloseTimedOut(_logger, _options.CloseTimeout.TotalSeconds);
        }
#pragma warning disable CA1031 // The connection is ending; a failed close is logged, and the socket aborted by the caller.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.CloseFailed(_logger, exception);
        }
    }

    // After a protocol error the receive loop has stopped mid-stream: read and drop until the client's close frame.
    private async Task DrainUntilCloseAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (_socket.State == WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CloseResumeWindow()
    {
        if (Interlocked.CompareExchange(ref _state, Started, Awaiting) == Awaiting)
        {
            _resume.TrySetResult(null);
        }
    }

    private async Task<ReceiveOutcome> ReceiveLoopAsync()
    {
        // Runs alongside the caller from its first await on.
        await Task.Yield();
        var limit = _options.MaxIncomingMessageBytes;
        try
        {
            while (true)
            {
                // A zero-byte read: an idle connection holds no buffer until a message starts arriving.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return ReceiveOutcome.ClientClosed;
                }

                if (peek.MessageType == WebSocketMessageType.Binary)
                {
                    // RFC 6455 section 7.4.1: 1003 is for a type of data the endpoint cannot accept.
                    return ReceiveOutcome.Violation(WebSocketCloseStatus.InvalidMessageType,
                        "rocket.jsonpatch.v1 carries text messages only; a binary message is not allowed");
                }

                var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
                try
                {
                    var length = 0;
                    var result = peek;
                    while (!result.EndOfMessage)
                    {
                        if (length > limit)
                        {
                            return ReceiveOutcome.Violation(WebSocketCloseStatus.MessageTooBig,
                                $"a client message may be at most {limit} bytes");
                        }

                        result = await _socket.ReceiveAsync(buffer.AsMemory(length, limit + 1 - length), CancellationToken.None).ConfigureAwait(false);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return ReceiveOutcome.ClientClosed;
                        }

                        length += result.Count;
                    }

                    if (length > limit)
                    {
                        return ReceiveOutcome.Violation(WebSocketCloseStatus.MessageTooBig, $"a client message may be at most {limit} bytes");
                    }

                    if (OnMessage(buffer.AsMemory(0, length)) is { } violation)
                    {
                        return violation;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
#pragma warning disable CA1031 // Whatever the client or the network does ends this connection only, never the host.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ReceiveFailed(_logger, exception);
            return ReceiveOutcome.Failed;
        }
    }

    // Returns a violation to close with, or null to keep reading.
    private ReceiveOutcome? OnMessage(ReadOnlyMemory<byte> message)
    {
        string? type = null;
        string? lastEventId = null;
        try
        {
            using var document = JsonDocument.Parse(message, MessageOptions);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type"u8, out var typeElement)
                || typeElement.ValueKind != JsonValueKind.String)
            {
                return ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation,
                    "a client message is a JSON object with a string member 'type'");
            }

            type = typeElement.GetString();
            if (type == "resume" && root.TryGetProperty("lastEventId"u8, out var cursorElement))
            {
                if (cursorElement.ValueKind == JsonValueKind.String)
                {
                    lastEventId = cursorElement.GetString();
                }
                else if (cursorElement.ValueKind != JsonValueKind.Null)
                {
                    return ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation, "'lastEventId' of a resume message is a string or null");
                }
            }
        }
        catch (JsonException)
        {
            return ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation, "a client message must be JSON: {\"type\":\"resume\",\"lastEventId\":\"<cursor>\"}");
        }
        catch (InvalidOperationException)
        {
            // GetString throws this, not JsonException, for a \u escape of an unpaired surrogate: a protocol error, not a
            // failed connection.
            return ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation, "a client message must be Unicode text: it has a \\u escape of an unpaired surrogate");
        }

        if (type != "resume")
        {
            return ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation,
                "the only client message of rocket.jsonpatch.v1 is {\"type\":\"resume\",\"lastEventId\":\"<cursor>\"}");
        }

        var first = Interlocked.Increment(ref _messages) == 1;
        if (Interlocked.CompareExchange(ref _state, Started, Awaiting) != Awaiting)
        {
            // A first message that says "no cursor" asks for what the stream already does: harmless, so ignored.
            return first && lastEventId is null
                ? null
                : ReceiveOutcome.Violation(WebSocketCloseStatus.PolicyViolation,
                    $"a resume message with a cursor is accepted only as the first message, within {_options.ResumeMessageTimeout.TotalMilliseconds} ms, of a stream opened with ?resume=message and no lastEventId");
        }

        // A cursor that is garbage, too old or from another epoch is not an error: the stream starts with a reset.
        _resume.TrySetResult(lastEventId);
        return null;
    }

    private enum ReceiveOutcomeKind
    {
        ClientClosed,
        Violation,
        Failed,
    }

    private readonly record struct ReceiveOutcome(ReceiveOutcomeKind Kind, WebSocketCloseStatus Code, string Reason)
    {
        public static ReceiveOutcome ClientClosed => new(ReceiveOutcomeKind.ClientClosed, WebSocketCloseStatus.NormalClosure, string.Empty);

        public static ReceiveOutcome Failed => new(ReceiveOutcomeKind.Failed, WebSocketCloseStatus.Empty, string.Empty);

        public static ReceiveOutcome Violation(WebSocketCloseStatus code, string reason) => new(ReceiveOutcomeKind.Violation, code, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "WebSocket client broke the protocol; closing with {Code}: {Reason}", EventName = "ProtocolViolation")]
        public static partial void ProtocolViolation(ILogger logger, int code, string reason);

        [LoggerMessage(2, LogLevel.Debug, "WebSocket receive ended: the connection failed or was aborted", EventName = "ReceiveFailed")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Debug, "WebSocket close did not complete within {Seconds} s; the connection is aborted", EventName = "CloseTimedOut")]
        public static partial void CloseTimedOut(ILogger logger, double seconds);

        [LoggerMessage(4, LogLevel.Debug, "WebSocket close failed; the connection is aborted", EventName = "CloseFailed")]
        public static partial void CloseFailed(ILogger logger, Exception exception);
    }
}
