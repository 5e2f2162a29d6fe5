using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rocket.AspNetCore;
using Rocket.Transports.WebSockets;

namespace Rocket;

/// <summary>Adds the WebSocket transport to Rocket.</summary>
public static class RocketWebSocketBuilderExtensions
{
    /// <summary>
    /// Serves every mapped collection's stream over a WebSocket (subprotocol <c>rocket.jsonpatch.v1</c>) to a GET of its
    /// URL with an Upgrade. The app must call <c>app.UseWebSockets()</c> before mapping; without this call, a WebSocket
    /// request to a collection gets no upgrade (the ordinary document GET answers it).
    /// </summary>
    /// <param name="builder">Rocket's builder.</param>
    /// <param name="configure">Changes to the defaults of <see cref="WebSocketTransportOptions"/>, if any.</param>
    public static IRocketBuilder AddWebSocketTransport(this IRocketBuilder builder, Action<WebSocketTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<WebSocketTransportOptions>().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebSocketTransportOptions>, WebSocketTransportOptionsValidator>());
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IRocketStreamEndpoint, WebSocketStreamEndpoint>());
        builder.Services.TryAddSingleton<CollectionAccess>();
        return builder;
    }
}
