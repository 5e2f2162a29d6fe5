using System;

namespace Rocket.Transports.Sse;

/// <summary>Settings of the SSE transport. Heartbeats are the collection's (<c>LiveCollectionOptions.HeartbeatInterval</c>, 15 s by default).</summary>
public sealed class SseTransportOptions
{
    /// <summary>
    /// The reconnection delay sent as <c>retry:</c> at the start of every stream. Default 3 s, what browsers use when
    /// they are told nothing: stated explicitly so every client behaves the same.
    /// </summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest one write to a stream may wait for the client to read. Past it the connection is aborted and the
    /// subscription ends, whatever is flowing (events or only heartbeats), so a client that stopped reading, or a peer
    /// that vanished without closing, holds its memory for at most this long. Default 10 s, as the WebSocket transport.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
