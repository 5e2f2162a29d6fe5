using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Rocket's hub, mapped with <c>MapRocketHub()</c> (at <c>/rocket</c> by default). Its one method,
/// <see cref="Subscribe"/>, is a server-to-client stream of a collection's events: the same events, cursors and resets
/// as the collection's SSE stream. It is a public contract; see <c>docs/signalr.md</c>.
/// </summary>
/// <remarks>
/// A stream, not groups: a stream is per connection, so each client gets its own flow control (a client that stops
/// reading ends up closed as a slow consumer, with a reason, and never slows the others), its own start (a replay from
/// its cursor or a reset) and a natural end with an error. Group messages would give none of that, and SignalR would
/// serialize them per connection anyway.
/// </remarks>
[SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "SignalR invokes hub methods on an instance; a static one would not be a hub method.")]
public sealed class RocketHub : Hub
{
    private readonly CollectionRegistry _registry;
    private readonly SignalRTransportOptions _options;

    /// <summary>Created by SignalR for each invocation.</summary>
    public RocketHub(CollectionRegistry registry, IOptions<SignalRTransportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _options = options.Value;
    }

    /// <summary>
    /// Streams the events of <paramref name="collection"/>: those after <paramref name="lastEventId"/> if it is still in
    /// the collection's history, else (no cursor, too old, another epoch, garbage) a reset first, then every event live.
    /// </summary>
    /// <param name="collection">The collection's name, as registered with <c>AddCollection</c>.</param>
    /// <param name="lastEventId">The <c>id</c> of the last event the client applied, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Canceled by SignalR when the client cancels the stream or disconnects; ends the subscription.</param>
    /// <returns>The stream. It ends with an error naming the reason when Rocket closes it (slow consumer, shutdown).</returns>
    /// <exception cref="HubException">No collection has that name.</exception>
    public IAsyncEnumerable<RocketHubEvent> Subscribe(string collection, string? lastEventId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(collection) || !_registry.TryGetCollection(collection, out var live))
        {
            // HubException: SignalR sends its message to the client (other exceptions become a generic error).
            throw new HubException($"Unknown collection '{collection}': no collection of that name is registered.");
        }

        var transport = new SignalRTransport(collection, _options.StreamBufferCapacity);
        Subscription subscription;
        try
        {
            subscription = live.Subscribe(transport, lastEventId, cancellationToken);
        }
        catch (ObjectDisposedException)
        {
            throw new HubException($"ShuttingDown: the collection '{collection}' is shutting down; reconnect and resume from your last cursor.");
        }
        catch (SubscriberLimitException e)
        {
            throw new HubException($"SubscriberLimit: {e.Message}");
        }

        _ = transport.CompleteWhenDoneAsync(subscription);
        return transport.Stream;
    }
}
