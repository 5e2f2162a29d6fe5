using System;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rocket.AspNetCore;
using Rocket.Transports.SignalR;

namespace Rocket;

/// <summary>Adds the SignalR transport to Rocket.</summary>
public static class RocketSignalRBuilderExtensions
{
    /// <summary>
    /// Adds the SignalR transport with SignalR's defaults: <c>services.AddSignalR()</c> (safe to call again, so settings
    /// made with <c>AddSignalR(o =&gt; ...)</c> or <c>Configure&lt;HubOptions&gt;</c> are kept), its MessagePack hub
    /// protocol unless <see cref="SignalRTransportOptions.AddMessagePackProtocol"/> is off, and <see cref="RocketHub"/>'s
    /// services. An app that configures SignalR itself adds the transport to its own builder instead:
    /// <c>services.AddSignalR(...).AddRocketTransport()</c> (<see cref="AddRocketTransport"/>). Map the hub with
    /// <c>app.MapRocketHub()</c>.
    /// </summary>
    /// <param name="builder">Rocket's builder.</param>
    /// <param name="configure">Changes to the defaults of <see cref="SignalRTransportOptions"/>; run once, here.</param>
    public static IRocketBuilder AddSignalRTransport(this IRocketBuilder builder, Action<SignalRTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSignalR().AddRocketTransport(configure);
        return builder;
    }

    /// <summary>
    /// Adds Rocket's SignalR transport to this SignalR: <c>services.AddSignalR(o =&gt; ...).AddRocketTransport()</c>, next
    /// to <c>services.AddRocket().AddCollection(...)</c>. Everything the app configured on SignalR is kept; Rocket adds the
    /// MessagePack hub protocol unless <see cref="SignalRTransportOptions.AddMessagePackProtocol"/> is off, and
    /// <see cref="RocketHub"/>'s services. Map the hub with <c>app.MapRocketHub()</c>.
    /// </summary>
    /// <param name="signalR">The app's SignalR builder.</param>
    /// <param name="configure">Changes to the defaults of <see cref="SignalRTransportOptions"/>; run once, here.</param>
    /// <returns>The same SignalR builder, to go on configuring SignalR.</returns>
    public static ISignalRServerBuilder AddRocketTransport(this ISignalRServerBuilder signalR, Action<SignalRTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(signalR);

        // The options decide what is registered, so they are read now, once; they are not an IOptions to change later.
        var options = new SignalRTransportOptions();
        configure?.Invoke(options);
        if (options.AddMessagePackProtocol)
        {
            signalR.AddMessagePackProtocol();
        }

        signalR.Services.AddRocket();
        signalR.Services.TryAddSingleton<CollectionAccess>();

        // The hub reads the same instance (its per-connection limit), so the delegate still runs once.
        signalR.Services.AddSingleton(Options.Create(options));

        // Rocket's hub gets a lifetime manager of its own (SignalR's default one, which also keeps Rocket's state of each
        // connection); a registration for this hub only, so a backplane registered for every hub leaves it alone.
        signalR.Services.AddSingleton<HubLifetimeManager<RocketHub>, RocketHubLifetimeManager>();
        return signalR;
    }
}
