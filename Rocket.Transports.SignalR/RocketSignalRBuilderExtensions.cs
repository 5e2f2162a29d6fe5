using System;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rocket.AspNetCore;
using Rocket.Transports.SignalR;

namespace Rocket;

/// <summary>Adds the SignalR transport to Rocket.</summary>
public static class RocketSignalRBuilderExtensions
{
    /// <summary>
    /// Adds SignalR (<c>services.AddSignalR()</c>, with its MessagePack hub protocol unless
    /// <see cref="SignalRTransportOptions.AddMessagePackProtocol"/> is off) and <see cref="RocketHub"/>'s settings. Map
    /// the hub with <c>app.MapRocketHub()</c>. SignalR's own settings (keep-alive, timeouts, JSON options) are
    /// configured as usual, with <c>services.AddSignalR(...)</c> or <c>Configure&lt;HubOptions&gt;</c>.
    /// </summary>
    public static IRocketBuilder AddSignalRTransport(this IRocketBuilder builder, Action<SignalRTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SignalRTransportOptions();
        configure?.Invoke(options);

        builder.Services.AddOptions<SignalRTransportOptions>();
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.Services.TryAddSingleton<CollectionAccess>();
        var signalR = builder.Services.AddSignalR();
        if (options.AddMessagePackProtocol)
        {
            signalR.AddMessagePackProtocol();
        }

        // Rocket's hub gets a lifetime manager of its own (SignalR's default one, which also keeps Rocket's state of each
        // connection); a registration for this hub only, so a backplane registered for every hub leaves it alone.
        builder.Services.AddSingleton<HubLifetimeManager<RocketHub>, RocketHubLifetimeManager>();
        return builder;
    }
}
