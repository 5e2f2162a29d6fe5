using System;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rocket.AspNetCore;
using Rocket.Transports.WebSockets;

namespace Rocket;

/// <summary>Maps the WebSocket that carries several collections.</summary>
public static class RocketWebSocketEndpointRouteBuilderExtensions
{
    /// <summary>The default path of <see cref="MapRocketWebSocket"/>.</summary>
    public const string DefaultPattern = "/rocket/ws";

    /// <summary>
    /// Maps a WebSocket endpoint (subprotocol <c>rocket.jsonpatch.v1</c>) on which a client follows several collections:
    /// it sends <c>{"type":"subscribe","collection":"rooms/lobby/messages","lastEventId":...}</c> and
    /// <c>{"type":"unsubscribe","collection":...}</c>, and every <c>patch</c>, <c>close</c> and <c>error</c> message names
    /// its collection. Registered collections and family instances alike, each checked against its authorization policy
    /// at every subscribe. Needs <c>AddWebSocketTransport()</c> and <c>app.UseWebSockets()</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapRocketWebSocket(this IEndpointRouteBuilder endpoints, string pattern = DefaultPattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var access = endpoints.ServiceProvider.GetRequiredService<CollectionAccess>();
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WebSocketTransportOptions>>().Value;
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Rocket.Transports.WebSockets.MultiCollectionSession");
        var lifetime = endpoints.ServiceProvider.GetService<IHostApplicationLifetime>();
        return endpoints.Map(pattern, async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest && WebSocketStreamEndpoint.LooksLikeUpgrade(context.Request))
            {
                await WebSocketStreamEndpoint.RefuseBrokenHandshakeAsync(context).ConfigureAwait(false);
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.Headers.Upgrade = "websocket";
                context.Response.Headers.SecWebSocketVersion = "13";
                await WebSocketStreamEndpoint.WriteProblemAsync(context, StatusCodes.Status426UpgradeRequired, "websocket-required", "WebSocket required",
                    "This URL is a WebSocket (subprotocol rocket.jsonpatch.v1) that carries several collections; open it with a WebSocket client.").ConfigureAwait(false);
                return;
            }

            if (!await WebSocketStreamEndpoint.IsOriginAllowedAsync(context).ConfigureAwait(false))
            {
                await WebSocketStreamEndpoint.WriteProblemAsync(context, StatusCodes.Status403Forbidden, "origin-not-allowed", "Origin not allowed",
                    $"A page on '{context.Request.Headers.Origin}' may not open this WebSocket: this app uses authentication. Allow the origin with WebSocketOptions.AllowedOrigins.").ConfigureAwait(false);
                return;
            }

            var offered = context.WebSockets.WebSocketRequestedProtocols;
            if (offered.Count > 0 && !offered.Contains(RocketWebSocketProtocol.Subprotocol))
            {
                await WebSocketStreamEndpoint.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "unsupported-subprotocol", "Unsupported WebSocket subprotocol",
                    $"This URL speaks the WebSocket subprotocol '{RocketWebSocketProtocol.Subprotocol}' (or none).").ConfigureAwait(false);
                return;
            }

            // Accepted as a collection's own URL accepts (over HTTP/1.1 the endpoint answers the upgrade itself), so a
            // close the WebSocket sends for broken frames reaches the client instead of being cut off by a reset.
            var (accepted, _) = await WebSocketStreamEndpoint.AcceptAsync(context, offered.Count > 0 ? RocketWebSocketProtocol.Subprotocol : null, options, logger).ConfigureAwait(false);
            if (accepted is null)
            {
                return;
            }

            using var socket = accepted;
            var session = new MultiCollectionSession(socket, context.User, access, options, logger, StreamAuthentication.GetExpiry(context));
            await using (session.ConfigureAwait(false))
            {
                await session.RunAsync(lifetime?.ApplicationStopping ?? CancellationToken.None).ConfigureAwait(false);
            }
        });
    }
}
