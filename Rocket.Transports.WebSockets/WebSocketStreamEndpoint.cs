using System;
using System.Linq;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Rocket.AspNetCore;
using Rocket.JsonPatch;
using Rocket.Live;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Serves a collection's stream over a WebSocket to a <c>GET</c> of the collection's URL with an Upgrade, through ASP.NET
/// Core's WebSocket support (<c>app.UseWebSockets()</c>).
/// </summary>
/// <remarks>
/// A client that offers <c>rocket.jsonpatch.v1</c> in <c>Sec-WebSocket-Protocol</c> gets it selected; a client that
/// offers no subprotocol is accepted too (a plain <c>new WebSocket(url)</c> works); a client that offers only others is
/// refused with 400 before the upgrade, since it would speak something else. The cursor is the <c>Last-Event-ID</c>
/// header, else the <c>lastEventId</c> query parameter (a browser's WebSocket cannot set headers); a client that asks
/// with <c>?resume=message</c> may send it as its first message instead. Without a cursor the stream starts at once. Keep-alive pings are set at accept time; the server stopping closes with 1001.
/// <para>
/// ASP.NET Core's middleware decides what is a WebSocket request (and checks its origin); over HTTP/1.1 the endpoint then
/// answers the upgrade itself and writes events to the upgraded connection as the framer built them, a batch per write
/// (docs/websocket-protocol.md, "How events are written"). Over HTTP/2 it accepts through <c>AcceptWebSocketAsync</c>.
/// </para>
/// </remarks>
internal sealed partial class WebSocketStreamEndpoint : IRocketStreamEndpoint
{
    private readonly WebSocketTransportOptions _options;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;

    public WebSocketStreamEndpoint(IOptions<WebSocketTransportOptions> options, IHostApplicationLifetime? lifetime = null, ILogger<WebSocketStreamEndpoint>? logger = null)
    {
        _options = options.Value;
        _lifetime = lifetime;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Name => "websocket";

    // Cross-site WebSocket hijacking: browsers send cookies on a WebSocket upgrade from any page, and upgrades are not
    // subject to CORS. ASP.NET Core's middleware refuses origins outside WebSocketOptions.AllowedOrigins when that list is
    // set; when it is not and the app has an authentication scheme, only the app's own origin (or a client that sends no
    // Origin, which is not a browser) may upgrade.
    internal static async Task<bool> IsOriginAllowedAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        var services = context.RequestServices;
        if (services.GetService<IOptions<WebSocketOptions>>()?.Value.AllowedOrigins.Count > 0)
        {
            return true;
        }

        if (services.GetService<IAuthenticationSchemeProvider>() is not { } schemes || !(await schemes.GetAllSchemesAsync().ConfigureAwait(false)).Any())
        {
            return true;
        }

        var own = context.Request.Scheme + "://" + context.Request.Host.Value;
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase);
    }

    // Any request that asks for a WebSocket upgrade is this endpoint's to answer, a broken handshake included: answered
    // with the document instead, a client would take a 200 for a refused upgrade.
    public bool CanAccept(HttpContext context) => context.WebSockets.IsWebSocketRequest || LooksLikeUpgrade(context.Request);

    public async Task ExecuteAsync(HttpContext context, LiveCollection collection)
    {
        if (!context.WebSockets.IsWebSocketRequest && context.Features.Get<IHttpWebSocketFeature>() is not null)
        {
            await RefuseBrokenHandshakeAsync(context).ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            Log.MiddlewareMissing(_logger);
            await WriteProblemAsync(context, StatusCodes.Status500InternalServerError, "websockets-not-enabled", "WebSockets are not enabled",
                "The WebSocket transport is registered but the app does not call app.UseWebSockets() before mapping Rocket's collections.").ConfigureAwait(false);
            return;
        }

        if (!await IsOriginAllowedAsync(context).ConfigureAwait(false))
        {
            await WriteProblemAsync(context, StatusCodes.Status403Forbidden, "origin-not-allowed", "Origin not allowed",
                $"A page on '{context.Request.Headers.Origin}' may not open this WebSocket: this app uses authentication, and a browser sends its cookies on a WebSocket from any site. Allow the origin with WebSocketOptions.AllowedOrigins.").ConfigureAwait(false);
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        string? subprotocol = null;
        if (offered.Count > 0)
        {
            foreach (var protocol in offered)
            {
                if (string.Equals(protocol, RocketWebSocketProtocol.Subprotocol, StringComparison.Ordinal))
                {
                    subprotocol = protocol;
                }
            }

            if (subprotocol is null)
            {
                await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "unsupported-subprotocol", "Unsupported WebSocket subprotocol",
                    $"This URL speaks the WebSocket subprotocol '{RocketWebSocketProtocol.Subprotocol}' (or none); the request offers only '{string.Join("', '", offered)}'.").ConfigureAwait(false);
                return;
            }
        }

        var cursor = GetCursor(context.Request);
        var awaitResume = cursor is null && WantsResumeMessage(context.Request);
        var stopping = _lifetime?.ApplicationStopping ?? CancellationToken.None;
        var (socket, connection) = await AcceptAsync(context, subprotocol, _options, _logger).ConfigureAwait(false);
        if (socket is null)
        {
            return;
        }

        using (socket)
        {
            await WebSocketSession.RunUpgradedAsync(socket, connection, collection, cursor, awaitResume, _options, _logger, stopping, StreamAuthentication.GetExpiry(context)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Answers an upgrade request that the WebSocket middleware found not to be a valid handshake (RFC 6455 section
    /// 4.2.1): 426 with <c>Sec-WebSocket-Version: 13</c> for a version this server does not speak (section 4.4), else
    /// 400. Never the document: a client must not take a 200 for a WebSocket it did not get.
    /// </summary>
    internal static Task RefuseBrokenHandshakeAsync(HttpContext context)
    {
        if (!WebSocketHandshake.IsSupportedVersion(context.Request.Headers.SecWebSocketVersion))
        {
            context.Response.Headers.SecWebSocketVersion = WebSocketHandshake.Version;
            return WriteProblemAsync(context, StatusCodes.Status426UpgradeRequired, "unsupported-websocket-version", "Unsupported WebSocket version",
                $"This server speaks WebSocket version {WebSocketHandshake.Version} (RFC 6455); the request asks for '{context.Request.Headers.SecWebSocketVersion}'.");
        }

        return WriteProblemAsync(context, StatusCodes.Status400BadRequest, "invalid-websocket-handshake", "Invalid WebSocket handshake",
            "The upgrade request is not a valid WebSocket handshake (RFC 6455 section 4.2.1): it needs GET, Connection: Upgrade, Upgrade: websocket and a Sec-WebSocket-Key of 16 bytes in base64.");
    }

    /// <summary>
    /// Accepts a WebSocket request that has passed the checks (origin, subprotocol): over HTTP/1.1 the endpoint answers
    /// the upgrade itself (see <see cref="UpgradeAsync"/>) and also returns the connection under the socket; otherwise
    /// (HTTP/2's extended CONNECT, RFC 8441, or a server without an HTTP/1.1 upgrade) through ASP.NET Core's
    /// <c>AcceptWebSocketAsync</c>, with no connection. A null socket when the accept failed (logged).
    /// </summary>
    internal static async Task<(WebSocket? Socket, WebSocketConnectionStream? Connection)> AcceptAsync(
        HttpContext context, string? subprotocol, WebSocketTransportOptions options, ILogger logger)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade
            && WebSocketHandshake.IsSupportedVersion(context.Request.Headers.SecWebSocketVersion)
            && WebSocketHandshake.TryGetAcceptKey(context.Request.Headers.SecWebSocketKey, out var accept))
        {
            var connection = await UpgradeAsync(context, upgrade, accept, subprotocol, logger).ConfigureAwait(false);
            if (connection is null)
            {
                return (null, null);
            }

            var created = WebSocket.CreateFromStream(connection, new WebSocketCreationOptions
            {
                IsServer = true,
                SubProtocol = subprotocol,
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            });
            connection.Socket = created;
            return (created, connection);
        }

        try
        {
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = subprotocol,
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
                // Events are small JSON Patches framed once for every subscriber; per-message compression would redo
                // the work per connection and is a known side channel (CRIME/BREACH) when secrets share a stream.
                DangerousEnableCompression = false,
            }).ConfigureAwait(false);
            return (socket, null);
        }
        catch (Exception exception) when (exception is WebSocketException or InvalidOperationException or System.IO.IOException)
        {
            Log.AcceptFailed(logger, exception);
            return (null, null);
        }
    }

    /// <summary>
    /// Accepts an HTTP/1.1 WebSocket itself (RFC 6455 section 4.2.2), so events can be written to the upgraded
    /// connection already framed: every subscriber shares each event's whole frame, and a batch is one write. ASP.NET
    /// Core's middleware has validated the request (<c>IsWebSocketRequest</c>) and checked its origin already.
    /// </summary>
    private static async Task<WebSocketConnectionStream?> UpgradeAsync(HttpContext context, IHttpUpgradeFeature upgrade, string accept, string? subprotocol, ILogger logger)
    {
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = accept;
        if (subprotocol is not null)
        {
            headers.SecWebSocketProtocol = subprotocol;
        }

        // No Sec-WebSocket-Extensions: per-message deflate is not negotiated (frames are shared by every subscriber, and
        // compression of a stream that may mix secrets is a known side channel).
        System.IO.Stream upgraded;
        try
        {
            upgraded = await upgrade.UpgradeAsync().ConfigureAwait(false); // 101 Switching Protocols
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.IO.IOException)
        {
            Log.AcceptFailed(logger, exception);
            return null;
        }

        // A request timeout, if the app set one, does not apply to a stream that lives as long as its client.
        context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        return new WebSocketConnectionStream(upgraded, context.Abort);
    }

    // ?resume=message: the client will send its cursor as the first message, so the stream waits for it (up to
    // ResumeMessageTimeout). Without it the stream starts at once, which is what every other client wants.
    private static bool WantsResumeMessage(HttpRequest request) =>
        string.Equals(request.Query[RocketWebSocketProtocol.ResumeQueryParameter], RocketWebSocketProtocol.ResumeByMessage, StringComparison.Ordinal);

    private static string? GetCursor(HttpRequest request)
    {
        var header = request.Headers[RocketHeaders.LastEventId];
        if (!StringValues.IsNullOrEmpty(header))
        {
            return header[0];
        }

        var query = request.Query[RocketWebSocketProtocol.CursorQueryParameter];
        return StringValues.IsNullOrEmpty(query) ? null : query[0];
    }

    internal static bool LooksLikeUpgrade(HttpRequest request)
    {
        foreach (var value in request.Headers.Upgrade)
        {
            if (value is not null && value.Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    internal static async Task WriteProblemAsync(HttpContext context, int status, string type, string title, string detail)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json; charset=utf-8";
        using (var json = new Utf8JsonWriter(response.BodyWriter, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "urn:rocket:problem:" + type);
            json.WriteString("title"u8, title);
            json.WriteNumber("status"u8, status);
            json.WriteString("detail"u8, detail);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Error, "A WebSocket request reached Rocket but the app does not call app.UseWebSockets(); answered 500", EventName = "WebSocketMiddlewareMissing")]
        public static partial void MiddlewareMissing(ILogger logger);

        [LoggerMessage(11, LogLevel.Debug, "Accepting a WebSocket failed", EventName = "AcceptFailed")]
        public static partial void AcceptFailed(ILogger logger, Exception exception);
    }
}
