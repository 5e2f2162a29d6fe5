using System;

namespace Rocket.Transports;

/// <summary>What a transport can do beyond carrying events to the client.</summary>
[Flags]
public enum TransportCapabilities
{
    /// <summary>Server to client only, as text (Server-Sent Events).</summary>
    None = 0,

    /// <summary>The client can send messages on the same connection (WebSocket, SignalR).</summary>
    Bidirectional = 1,

    /// <summary>Frames may be binary.</summary>
    Binary = 2,

    /// <summary>The close can carry a reason to the peer (a WebSocket close frame, a SignalR close message).</summary>
    CloseReason = 4,
}
