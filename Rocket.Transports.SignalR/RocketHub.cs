using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Rocket.AspNetCore;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Rocket's hub, mapped with <c>MapRocketHub()</c> (at <c>/rocket</c> by default). A connection subscribes to any number
/// of collections (<see cref="Subscribe"/>, <see cref="Unsubscribe"/>); their events arrive as invocations of the client
/// method <c>patch(collection, id, reset, patch)</c>, and a subscription Rocket ends as <c>close(collection, status,
/// reason)</c>. It is a public contract; see <c>docs/signalr.md</c>.
/// </summary>
/// <remarks>
/// Every event is serialized once per hub protocol, not once per connection: the bytes of a <c>patch</c> message are the
/// same for every connection of a protocol (nothing in them is per connection, unlike a stream item's invocation id),
/// and each connection gets those bytes through its own queue, with its own flow control, start (replay or reset) and
/// close reason.
/// </remarks>
[SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "SignalR invokes hub methods on an instance; a static one would not be a hub method.")]
public sealed class RocketHub : Hub
{
    private readonly CollectionAccess _access;

    /// <summary>Created by SignalR for each invocation.</summary>
    public RocketHub(CollectionAccess access)
    {
        ArgumentNullException.ThrowIfNull(access);
        _access = access;
    }

    /// <summary>
    /// Subscribes this connection to <paramref name="collection"/>: the events after <paramref name="lastEventId"/> if it
    /// is still in the collection's history, else (no cursor, too old, another epoch, garbage) a reset first, then every
    /// event live, each as a <c>patch</c> message. Subscribing again to the same collection starts it over from the
    /// cursor given.
    /// </summary>
    /// <param name="collection">
    /// The collection's name, as registered with <c>AddCollection</c>, or a family instance's (<c>rooms/lobby/messages</c>,
    /// created on first use). Its authorization policy, if any, is evaluated for the connection's user at every subscribe.
    /// </param>
    /// <param name="lastEventId">The <c>id</c> of the last event the client applied, or <see langword="null"/>.</param>
    /// <returns>Completes once the subscription is registered (its first messages may already be on their way).</returns>
    /// <exception cref="HubException">
    /// <c>NotFound: ...</c> (no collection of that name), <c>Unauthorized: ...</c> (nobody signed in),
    /// <c>Forbidden: ...</c> (the user may not), <c>FamilyFull: ...</c>, <c>SubscriberLimit: ...</c>, <c>TooManyCollections: ...</c> (past
    /// <see cref="SignalRTransportOptions.MaxCollectionsPerConnection"/>), <c>ShuttingDown: ...</c>.
    /// </exception>
    public async Task Subscribe(string collection, string? lastEventId)
    {
        // HubException throughout: SignalR sends its message to the client (other exceptions become a generic error).
        if (string.IsNullOrEmpty(collection))
        {
            throw new HubException("NotFound: the collection's name is empty.");
        }

        var state = State();
        CollectionAccessStatus status;
        LiveCollection? live;
        string? reason;
        try
        {
            (status, live, reason) = await _access.OpenAsync(Context.User ?? new System.Security.Claims.ClaimsPrincipal(), collection).ConfigureAwait(false);
        }
        catch (SourceUnavailableException e)
        {
            // A family instance that lives in a store (Redis) could not be loaded; the client may try again.
            throw new HubException($"StoreUnavailable: {e.Message}", e);
        }

        if (status != CollectionAccessStatus.Allowed)
        {
            throw new HubException($"{status}: {reason}");
        }

        try
        {
            var http = Context.GetHttpContext();
            await state.SubscribeAsync(live!, lastEventId, http is null ? null : StreamAuthentication.GetExpiry(http)).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            throw new HubException($"ShuttingDown: the collection '{collection}' is shutting down; reconnect and resume from your last cursor.");
        }
        catch (SubscriberLimitException e)
        {
            throw new HubException($"SubscriberLimit: {e.Message}");
        }

    }

    /// <summary>Ends this connection's subscription to <paramref name="collection"/>; nothing if there is none.</summary>
    /// <param name="collection">The collection's name.</param>
    /// <returns>Completes once the subscription has ended: no <c>patch</c> of it follows.</returns>
    public Task Unsubscribe(string collection) =>
        string.IsNullOrEmpty(collection) ? Task.CompletedTask : State().UnsubscribeAsync(collection);

    /// <summary>Ends every subscription of the connection.</summary>
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (RocketHubConnection.Of(Context.Items) is { } state)
        {
            await state.CloseAsync().ConfigureAwait(false);
        }

        await base.OnDisconnectedAsync(exception).ConfigureAwait(false);
    }

    private RocketHubConnection State()
    {
        var state = RocketHubConnection.Of(Context.Items)
            ?? throw new HubException("Unavailable: the hub's lifetime manager was replaced; register the SignalR transport with AddSignalRTransport().");
        return state.Framer is null
            ? throw new HubException($"NotSupported: Rocket writes the 'json' and 'messagepack' hub protocols, not '{state.Connection.Protocol.Name}'.")
            : state;
    }
}
