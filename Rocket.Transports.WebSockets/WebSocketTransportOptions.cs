using System;
using System.Threading;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Settings of the WebSocket transport, per app (<c>AddWebSocketTransport(o =&gt; ...)</c>) or per connection
/// (<see cref="WebSocketSession.RunAsync"/>). Each setting states its default and why.
/// </summary>
public sealed class WebSocketTransportOptions
{
    /// <summary>
    /// How often the server sends a WebSocket ping (RFC 6455 section 5.5.2), set when the endpoint accepts the socket.
    /// Default 15 s, the collection's heartbeat interval: proxies commonly cut connections idle for 30 to 60 s.
    /// <see cref="TimeSpan.Zero"/> sends none.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long the server waits for the pong of each ping before it aborts the connection. Default 15 s, so a dead
    /// peer is noticed within two heartbeats (docs/design.md, decision 8). <see cref="Timeout.InfiniteTimeSpan"/> only
    /// sends unsolicited pongs and never checks.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The longest one send may take before the connection is aborted. Default 10 s. Kestrel's minimum data rate does
    /// not apply to upgraded connections, so without this a client that stops reading would hold its socket forever
    /// (its queue overflowing would end the subscription, but not free the blocked send).
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the server waits for the client's close frame after sending its own (or for its own to go out) before
    /// it aborts. Default 5 s, as the collection's close timeout and ASP.NET Core's SignalR: long enough for a healthy
    /// link, short enough that a dead peer frees its resources.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For a stream opened with <c>?resume=message</c> (and no cursor in the URL), how long the server waits for the first
    /// message <c>{"type":"resume","lastEventId":"..."}</c> before it starts the stream with a reset. Default 1 s: a
    /// client that asked for it sends it on open, and it arrives within one round trip. Every other stream starts at
    /// once. <see cref="TimeSpan.Zero"/> turns resume by message off.
    /// </summary>
    public TimeSpan ResumeMessageTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The largest client message accepted, in bytes; a larger one is answered with an error and close code 1009.
    /// Default 4 KiB: the only client message is a resume of about 60 bytes, so anything near the limit is a mistake or
    /// an attack, and a connection never buffers more than this.
    /// </summary>
    public int MaxIncomingMessageBytes { get; set; } = 4 * 1024;

    /// <summary>
    /// On the multi-collection WebSocket (<c>MapRocketWebSocket</c>), the most collections one connection may follow at
    /// once; a subscribe past it is answered with an <c>error</c> message (<c>TooManyCollections</c>). Default 100: each
    /// costs a subscription with its queue, so one connection cannot hold unbounded memory.
    /// </summary>
    public int MaxCollectionsPerConnection { get; set; } = 100;
}
