using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.Transports.SignalR;

/// <summary>
/// SignalR's default lifetime manager for <see cref="RocketHub"/>, which also gives each connection its
/// <see cref="RocketHubConnection"/>: a hub only sees a <see cref="HubCallerContext"/>, and Rocket needs the
/// connection's <see cref="HubConnectionContext"/> to write pre-serialized messages to it.
/// </summary>
/// <remarks>
/// When the host stops, SignalR closes every connection at once, without letting what was written go out first (its
/// connection manager does it on <c>ApplicationStopping</c>). So that each subscriber is told first, as on SSE and
/// WebSocket, this manager also registers on <c>ApplicationStopping</c>, after SignalR (callbacks run last registered
/// first): every subscription is closed with <c>ShuttingDown</c> (the client gets <c>close(collection, "ShuttingDown",
/// ...)</c>), then the connection is ended by the hub, which sends SignalR's close message with an error the client
/// reports; SignalR's own close then finds nothing left to cut off.
/// </remarks>
internal sealed class RocketHubLifetimeManager(
    ILogger<DefaultHubLifetimeManager<RocketHub>> logger, IOptions<SignalRTransportOptions> options, IHostApplicationLifetime? lifetime = null)
    : DefaultHubLifetimeManager<RocketHub>(logger)
{
    // As SignalR's own wait for its connections when it closes them.
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(5);

    private readonly int _maxCollections = options.Value.MaxCollectionsPerConnection;
    private readonly CancellationToken _stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;
    private readonly ConcurrentDictionary<string, RocketHubConnection> _connections = new(StringComparer.Ordinal);
    private int _registered;

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);

        // At the first connection SignalR's connection manager has registered on the token already, so this callback
        // runs before it.
        if (_stopping.CanBeCanceled && Interlocked.Exchange(ref _registered, 1) == 0)
        {
            _stopping.Register(static state => ((RocketHubLifetimeManager)state!).ShutDown(), this);
        }

        var state = RocketHubConnection.Attach(connection, _maxCollections, _stopping);
        _connections[connection.ConnectionId] = state;
        return base.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connections.TryRemove(connection.ConnectionId, out _);

        // The hub's OnDisconnectedAsync has already done this, unless it threw.
        if (RocketHubConnection.Of(connection.Items!) is { } state)
        {
            await state.CloseAsync().ConfigureAwait(false);
            state.Disconnected();
        }

        await base.OnDisconnectedAsync(connection).ConfigureAwait(false);
    }

    // Blocks the stopping callback, as SignalR's own close of its connections does, and for no longer.
    private void ShutDown()
    {
        var ending = _connections.Values.Select(static c => c.ShutDownAsync()).ToArray();
        try
        {
            Task.WaitAll(ending, ShutdownWait);
        }
        catch (AggregateException)
        {
            // A connection that failed meanwhile is gone anyway.
        }
    }
}
