using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rocket.Transports.SignalR;

/// <summary>
/// SignalR's default lifetime manager for <see cref="RocketHub"/>, which also gives each connection its
/// <see cref="RocketHubConnection"/>: a hub only sees a <see cref="HubCallerContext"/>, and Rocket needs the
/// connection's <see cref="HubConnectionContext"/> to write pre-serialized messages to it.
/// </summary>
internal sealed class RocketHubLifetimeManager(ILogger<DefaultHubLifetimeManager<RocketHub>> logger, IOptions<SignalRTransportOptions> options)
    : DefaultHubLifetimeManager<RocketHub>(logger)
{
    private readonly int _maxCollections = options.Value.MaxCollectionsPerConnection;

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        RocketHubConnection.Attach(connection, _maxCollections);
        return base.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        // The hub's OnDisconnectedAsync has already done this, unless it threw.
        if (RocketHubConnection.Of(connection.Items!) is { } state)
        {
            await state.CloseAsync().ConfigureAwait(false);
        }

        await base.OnDisconnectedAsync(connection).ConfigureAwait(false);
    }
}
