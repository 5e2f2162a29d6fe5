using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>Settings of a <see cref="LiveCollectionClient"/>. Defaults are the property initializers, stated on each.</summary>
public sealed class LiveCollectionClientOptions
{
    /// <summary>The collection's URL, e.g. <c>http://127.0.0.1:5080/messages</c>. Required.</summary>
    public Uri? CollectionUri { get; set; }

    /// <summary>
    /// The collection's name, the first segment of every patch path. Default null: the last segment of
    /// <see cref="CollectionUri"/> (<c>messages</c>), which is how Rocket maps collections.
    /// </summary>
    public string? CollectionName { get; set; }

    /// <summary>The transport. Default <see cref="SseConnector"/>; also <see cref="WebSocketConnector"/> and, in Rocket.Client.SignalR, <c>SignalRConnector</c>.</summary>
    public IStreamConnector Transport { get; set; } = new SseConnector();

    /// <summary>
    /// Whether to GET the keyed document and its cursor before streaming from that cursor (default true). When false the
    /// stream opens with no cursor and the server starts it with a reset: one request fewer, the whole document on the stream.
    /// </summary>
    public bool FetchDocumentFirst { get; set; } = true;

    /// <summary>
    /// How long a stream may stay silent before it is taken for dead and reopened. Default 45 s: three of the server's
    /// 15 s heartbeats, so one lost heartbeat is not a disconnect. WebSocket and SignalR use it for their own keep-alive
    /// (a third of it as the ping interval, the rest as the pong timeout; SignalR's server timeout).
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>The first reconnection delay, doubled on each failed attempt. Default 1 s. A server's SSE <c>retry:</c> replaces it.</summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest reconnection delay. Default 30 s, so a client comes back within half a minute of a server.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether each delay is drawn at random between nothing and all of itself ("full jitter"). Default true: after a
    /// server restart its clients come back spread over the whole delay, not all in the same millisecond (SignalR's
    /// fixed 0, 2, 10, 30 s steps bring every client of a restarted server back at the same instants).
    /// </summary>
    public bool ReconnectJitter { get; set; } = true;

    /// <summary>Headers sent with every request (GET, SSE, WebSocket upgrade, SignalR negotiate). Default none.</summary>
    public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

    /// <summary>Cookies sent with every request, when not null. Default null. (With your own <see cref="HttpClient"/>, set cookies on its handler.)</summary>
    public CookieContainer? Cookies { get; set; }

    /// <summary>Called for each request, for a fresh token: sent as <c>Authorization: Bearer &lt;token&gt;</c>. Default null.</summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessTokenProvider { get; set; }

    /// <summary>Called on every HTTP request the client makes (GET and SSE), last, to add or change anything. Default null.</summary>
    public Action<HttpRequestMessage>? ConfigureRequest { get; set; }

    /// <summary>The HTTP client to use. Default null: the client makes one (with <see cref="HttpMessageHandler"/> if set) and disposes it.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>The handler of the client's own <see cref="System.Net.Http.HttpClient"/>, when <see cref="HttpClient"/> is null. Default null.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// How <see cref="LiveCollectionClient.GetRecords{T}()"/> reads records: the app's own settings, the same it writes
    /// records with. Default null: <see cref="JsonSerializerOptions.Web"/> (camelCase names, read case-insensitively),
    /// as ASP.NET Core writes JSON. Like <see cref="JsonSerializer"/>, the client makes the options read-only when it
    /// first uses them.
    /// </summary>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>
    /// Reads the non-standard <c>"op":"update"</c> of the 2013 Rocket servers as <c>replace</c>. Default false: it is
    /// not JSON Patch, and a Rocket server never sends it (docs/design.md, decision 1).
    /// </summary>
    public bool LegacyUpdateAsReplace { get; set; }
}
