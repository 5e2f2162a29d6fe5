using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Several collections on one WebSocket: the client subscribes and unsubscribes collections by message, each with its
/// own cursor, and every message names its collection (docs/websocket-protocol.md, "Several collections on one
/// WebSocket"). Each subscription is an ordinary Rocket subscription with its own bounded queue; their writes take turns
/// on the socket. A refused subscribe is answered with an <c>error</c> message and the connection stays open.
/// </summary>
internal sealed class MultiCollectionSession : IAsyncDisposable
{
    private static readonly JsonDocumentOptions MessageOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    private readonly WebSocket _socket;
    private readonly ClaimsPrincipal _user;
    private readonly CollectionAccess _access;
    private readonly WebSocketTransportOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();

    private readonly DateTimeOffset? _expires;

    public MultiCollectionSession(WebSocket socket, ClaimsPrincipal user, CollectionAccess access, WebSocketTransportOptions options, ILogger logger, DateTimeOffset? expires = null)
    {
        _expires = expires;
        _socket = socket;
        _user = user;
        _access = access;
        _options = options;
        _logger = logger;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var stop = stopping.Register(static state => ((MultiCollectionSession)state!)._closed.Cancel(), this);
        var buffer = new byte[_options.MaxIncomingMessageBytes];
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"a message over {_options.MaxIncomingMessageBytes} bytes").ConfigureAwait(false);
                        return;
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(count), _closed.Token).ConfigureAwait(false);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await EndSubscriptionsAsync().ConfigureAwait(false);
                    await SendLockedAsync(() => _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None)).ConfigureAwait(false);
                    return;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    await CloseAsync(WebSocketCloseStatus.InvalidMessageType, "binary messages are not part of rocket.jsonpatch.v1").ConfigureAwait(false);
                    return;
                }

                if (await HandleAsync(buffer.AsMemory(0, count), stopping).ConfigureAwait(false) is { } violation)
                {
                    await CloseAsync(WebSocketCloseStatus.PolicyViolation, violation).ConfigureAwait(false);
                    return;
                }
            }

            // The host is stopping: every collection is told, then the connection goes away.
            await EndSubscriptionsAsync().ConfigureAwait(false);
            await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "the server is shutting down; reconnect and resume from your last cursors").ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection went away; the subscriptions end below.
        }
        finally
        {
            await EndSubscriptionsAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await EndSubscriptionsAsync().ConfigureAwait(false);
        _closed.Dispose();
        _send.Dispose();
    }

    // One client message; a protocol violation's reason, or null.
    private async Task<string?> HandleAsync(ReadOnlyMemory<byte> message, CancellationToken stopping)
    {
        string type;
        string collection;
        string? cursor = null;
        try
        {
            using var json = JsonDocument.Parse(message, MessageOptions);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return "a message is a JSON object with a string 'type'";
            }

            type = typeElement.GetString()!;
            if (type is not ("subscribe" or "unsubscribe"))
            {
                return $"unknown message type '{type}': this connection takes 'subscribe' and 'unsubscribe'";
            }

            if (!root.TryGetProperty("collection", out var collectionElement) || collectionElement.ValueKind != JsonValueKind.String || collectionElement.GetString() is not { Length: > 0 } name)
            {
                return $"a '{type}' message names its 'collection' as a non-empty string";
            }

            collection = name;
            if (root.TryGetProperty("lastEventId", out var last))
            {
                if (last.ValueKind == JsonValueKind.String)
                {
                    cursor = last.GetString();
                }
                else if (last.ValueKind != JsonValueKind.Null)
                {
                    return "'lastEventId' is a string or null";
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return "a message is a JSON object: " + e.Message;
        }

        if (type == "unsubscribe")
        {
            await EndSubscriptionAsync(collection).ConfigureAwait(false);
            return null;
        }

        await EndSubscriptionAsync(collection).ConfigureAwait(false);
        int count;
        lock (_subscriptions)
        {
            count = _subscriptions.Count;
        }

        if (count >= _options.MaxCollectionsPerConnection)
        {
            await SendErrorAsync(collection, "TooManyCollections", $"this connection follows {count} collections, as many as it may; unsubscribe one first").ConfigureAwait(false);
            return null;
        }

        CollectionAccessStatus status;
        LiveCollection? live;
        string? reason;
        try
        {
            (status, live, reason) = await _access.OpenAsync(_user, collection).ConfigureAwait(false);
        }
        catch (SourceUnavailableException e)
        {
            // A family instance that lives in a store (Redis) could not be loaded: this collection is refused, the
            // connection and its other collections go on.
            await SendErrorAsync(collection, "StoreUnavailable", e.Message).ConfigureAwait(false);
            return null;
        }

        if (status != CollectionAccessStatus.Allowed)
        {
            await SendErrorAsync(collection, status.ToString(), reason ?? status.ToString()).ConfigureAwait(false);
            return null;
        }

        try
        {
            var subscription = live!.Subscribe(new CollectionTransport(this, collection), cursor, _closed.Token, stopping);
            if (_expires is { } expires)
            {
                // No longer than the authentication the connection was opened with: each collection gets its close.
                subscription.CloseAfter(expires - DateTimeOffset.UtcNow, Rocket.Transports.CloseReason.Expired);
            }

            lock (_subscriptions)
            {
                _subscriptions[collection] = subscription;
            }
        }
        catch (SubscriberLimitException e)
        {
            await SendErrorAsync(collection, "SubscriberLimit", e.Message).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            await SendErrorAsync(collection, "ShuttingDown", "the collection is going away; subscribe again").ConfigureAwait(false);
        }

        return null;
    }

    private async Task EndSubscriptionAsync(string collection)
    {
        Subscription? previous;
        lock (_subscriptions)
        {
            _subscriptions.Remove(collection, out previous);
        }

        if (previous is not null)
        {
            await previous.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task EndSubscriptionsAsync()
    {
        Subscription[] all;
        lock (_subscriptions)
        {
            all = [.. _subscriptions.Values];
            _subscriptions.Clear();
        }

        foreach (var subscription in all)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task SendErrorAsync(string collection, string status, string reason) =>
        SendJsonAsync(json =>
        {
            json.WriteString("type"u8, "error"u8);
            json.WriteString("collection"u8, collection);
            json.WriteString("status"u8, status);
            json.WriteString("reason"u8, reason);
        });

    private async Task SendJsonAsync(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        await SendAsync(buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        await EndSubscriptionsAsync().ConfigureAwait(false);
        var bytes = Encoding.UTF8.GetByteCount(reason) > 123 ? reason[..60] + "..." : reason;
        try
        {
            using var timeout = new CancellationTokenSource(_options.CloseTimeout);
            await SendLockedAsync(() => _socket.CloseAsync(status, bytes, timeout.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            _socket.Abort();
        }
    }

    private async Task SendLockedAsync(Func<Task> send)
    {
        await _send.WaitAsync().ConfigureAwait(false);
        try
        {
            await send().ConfigureAwait(false);
        }
        finally
        {
            _send.Release();
        }
    }

    // One text message, the session's writes taking turns; each fragment bounded by WriteTimeout, after which the socket is aborted.
    internal async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                // In fragments of at most 64 KiB, so a large reset costs the connection one fragment at a time.
                await WebSocketMessageSender.SendFragmentsAsync(_socket, message, timeout, _options.WriteTimeout).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _socket.Abort();
                throw new WebSocketException("a send took longer than the write timeout");
            }
        }
        finally
        {
            _send.Release();
        }
    }

    // One collection's subscription writing into the shared socket.
    private sealed class CollectionTransport(MultiCollectionSession session, string collection) : ITransport
    {
        public TransportDescriptor Descriptor => MultiCollectionFramer.Descriptor;

        public IEventFramer Framer => MultiCollectionFramer.Instance;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default) => session.SendAsync(frame, cancellationToken);

        public async ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
        {
            for (var i = 0; i < frames.Length; i++)
            {
                await session.SendAsync(frames.Span[i], cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public async ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
        {
            // Only this collection ends: the client subscribes again with its last cursor.
            lock (session._subscriptions)
            {
                session._subscriptions.Remove(collection);
            }

            await session.SendJsonAsync(json =>
            {
                json.WriteString("type"u8, "close"u8);
                json.WriteString("collection"u8, collection);
                json.WriteString("status"u8, reason.Status.ToString());
                json.WriteString("reason"u8, reason.Description);
            }).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Frames an event as the multi-collection message <c>{"type":"patch","collection":"...","id":"...","patch":[...]}</c>:
/// once per event (an event belongs to one collection), the same bytes for every connection following it.
/// </summary>
internal sealed class MultiCollectionFramer : IEventFramer
{
    public static readonly MultiCollectionFramer Instance = new();

    public static readonly TransportDescriptor Descriptor = new("websocket");

    public string Kind => "websocket-multi";

    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        json.WriteStartObject();
        json.WriteString("type"u8, "patch"u8);
        json.WriteString("collection"u8, liveEvent.Collection);
        json.WriteString("id"u8, liveEvent.Cursor.ToString());
        json.WritePropertyName("patch"u8);
        json.WriteRawValue(liveEvent.Patch.Span, skipInputValidation: true);
        json.WriteEndObject();
    }
}
