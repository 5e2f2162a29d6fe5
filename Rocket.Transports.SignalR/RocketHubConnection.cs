using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections.Abstractions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Rocket's state of one hub connection: the connection itself (to write pre-serialized messages to it), the framer
/// of its hub protocol, and its subscriptions, at most one per collection.
/// </summary>
/// <remarks>
/// Kept in the connection's <see cref="HubConnectionContext.Items"/> (which the hub sees as <c>Context.Items</c>) by
/// <see cref="RocketHubLifetimeManager"/>, the one place SignalR hands out a connection's <see cref="HubConnectionContext"/>.
/// </remarks>
internal sealed class RocketHubConnection
{
    private static readonly object ItemKey = new();

    // The hub error a client gets when the server stops, after each collection's close(collection, "ShuttingDown", ...).
    private const string ShuttingDownError = "ShuttingDown: the server is shutting down; reconnect and resume from your last cursors.";

    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly int _maxCollections;
    private readonly CancellationToken _stopping;
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    private RocketHubConnection(HubConnectionContext connection, int maxCollections, CancellationToken stopping)
    {
        Connection = connection;
        _maxCollections = maxCollections;
        _stopping = stopping;
        Framer = SignalREventFramer.ForProtocol(connection.Protocol.Name);

        // With stateful reconnect SignalR keeps every message written until the client acknowledges it, so joined
        // writes must not reuse their buffers. The feature is marked preview; only its presence is read here.
#pragma warning disable CA2252
        PooledJoins = connection.Features.Get<IStatefulReconnectFeature>() is null;
#pragma warning restore CA2252
    }

    public HubConnectionContext Connection { get; }

    public SignalREventFramer? Framer { get; }

    public bool PooledJoins { get; }

    public static RocketHubConnection Attach(HubConnectionContext connection, int maxCollections = int.MaxValue, CancellationToken stopping = default)
    {
        var state = new RocketHubConnection(connection, maxCollections, stopping);
        connection.Items[ItemKey] = state;
        return state;
    }

    public static RocketHubConnection? Of(IDictionary<object, object?> items) =>
        items.TryGetValue(ItemKey, out var state) ? state as RocketHubConnection : null;

    /// <summary>
    /// Subscribes to <paramref name="live"/>, replacing (and first ending) this connection's subscription to it.
    /// </summary>
    /// <exception cref="HubException"><c>TooManyCollections: ...</c>: the connection follows as many other collections as it may.</exception>
    public async Task SubscribeAsync(LiveCollection live, string? lastEventId, DateTimeOffset? expires = null)
    {
        var collection = live.Name;
        Subscription? previous;
        lock (_subscriptions)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_subscriptions.ContainsKey(collection) && _subscriptions.Count >= _maxCollections)
            {
                throw TooManyCollections(_subscriptions.Count);
            }

            _subscriptions.Remove(collection, out previous);
        }

        if (previous is not null)
        {
            // Ended before the new one starts, so none of its events follows the new one's first.
            await previous.DisposeAsync().ConfigureAwait(false);
        }

        var transport = new SignalRTransport(Connection, Framer!, collection, PooledJoins);
        // The host stopping ends it with ShuttingDown, which the client gets as close(collection, "ShuttingDown", ...)
        // before SignalR closes the connection, as SSE and WebSocket subscribers are told.
        var subscription = live.Subscribe(transport, lastEventId, Connection.ConnectionAborted, _stopping);
        if (expires is { } at)
        {
            // No longer than the authentication the connection was opened with: the client gets close(..., "Expired", ...).
            subscription.CloseAfter(at - DateTimeOffset.UtcNow, CloseReason.Expired);
        }

        bool closed;
        int? tooMany = null;
        Subscription? displaced = null;
        lock (_subscriptions)
        {
            closed = _closed;
            if (!closed && !_subscriptions.ContainsKey(collection) && _subscriptions.Count >= _maxCollections)
            {
                // Parallel subscribes (hub invocations may run concurrently) each passed the check above: the one that
                // registers last past the limit is refused.
                tooMany = _subscriptions.Count;
            }
            else if (!closed)
            {
                // Another Subscribe to the same collection may have run meanwhile (with parallel invocations allowed):
                // the last one registered stays, and the one it displaces ends.
                _subscriptions.Remove(collection, out displaced);
                _subscriptions[collection] = subscription;
            }
        }

        if (closed || tooMany is not null)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            if (tooMany is { } count)
            {
                throw TooManyCollections(count);
            }

            return;
        }

        if (displaced is not null)
        {
            await displaced.DisposeAsync().ConfigureAwait(false);
        }

        _ = ForgetWhenDoneAsync(collection, subscription);
    }

    /// <summary>Ends this connection's subscription to <paramref name="collection"/>, if any.</summary>
    public async Task UnsubscribeAsync(string collection)
    {
        Subscription? subscription;
        lock (_subscriptions)
        {
            _subscriptions.Remove(collection, out subscription);
        }

        if (subscription is not null)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>SignalR has finished with the connection (the lifetime manager's <c>OnDisconnectedAsync</c>).</summary>
    public void Disconnected() => _disconnected.TrySetResult();

    // How long a connection told to close is given to close it from its side before it is cut.
    private static readonly TimeSpan ClientCloseWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The host is stopping: each subscription is closed with <c>ShuttingDown</c> (its client gets the <c>close</c>
    /// message after what was in flight), then the connection is ended (the client gets SignalR's close message with an
    /// error). Completes when SignalR has disconnected it.
    /// </summary>
    public async Task ShutDownAsync()
    {
        Subscription[] all;
        lock (_subscriptions)
        {
            all = [.. _subscriptions.Values];
        }

        foreach (var subscription in all)
        {
            subscription.Close(CloseReason.ShuttingDown);
        }

        foreach (var subscription in all)
        {
            await subscription.Completion.ConfigureAwait(false);
        }

        // SignalR's close message with an error and allowReconnect: the .NET and JavaScript clients report the error
        // (Closed, onclose) and, with automatic reconnect on, reconnect; then the connection ends.
        try
        {
            await Connection.WriteAsync(new CloseMessage(ShuttingDownError, allowReconnect: true)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The connection may be gone already; it is ended below either way.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        // The client closes the connection once it has read the close message. Aborting at once could cut off what is
        // still in the connection's pipe (the collections' close messages and this one), so the connection is aborted
        // only if the client has not gone within the wait.
        if (await Task.WhenAny(_disconnected.Task, Task.Delay(ClientCloseWait)).ConfigureAwait(false) != _disconnected.Task)
        {
            Connection.Abort();
            await _disconnected.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Ends every subscription of the connection (it went away); later subscribes are refused.</summary>
    public async Task CloseAsync()
    {
        Subscription[] all;
        lock (_subscriptions)
        {
            _closed = true;
            all = [.. _subscriptions.Values];
            _subscriptions.Clear();
        }

        foreach (var subscription in all)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    // A subscription Rocket ended (slow consumer, shutdown, a failed write) leaves the map, so the collection counts as
    // not subscribed on this connection; one replaced or unsubscribed in the meantime is no longer there.
    private async Task ForgetWhenDoneAsync(string collection, Subscription subscription)
    {
        await subscription.Completion.ConfigureAwait(false);
        lock (_subscriptions)
        {
            if (_subscriptions.TryGetValue(collection, out var current) && ReferenceEquals(current, subscription))
            {
                _subscriptions.Remove(collection);
            }
        }
    }

    // The hub error as the client sees it (SignalR sends a HubException's message).
    private static HubException TooManyCollections(int count) =>
        new($"TooManyCollections: this connection follows {count} collections, as many as it may (SignalRTransportOptions.MaxCollectionsPerConnection); unsubscribe one first.");
}
