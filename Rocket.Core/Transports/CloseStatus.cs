namespace Rocket.Transports;

/// <summary>Why a subscription ended, in a form transports map to their own codes (WebSocket close codes, say).</summary>
public enum CloseStatus
{
    /// <summary>The host ended it (disposed, or its token was canceled). Rocket does not close the transport.</summary>
    Normal,

    /// <summary>The subscriber's queue overflowed; its client should reconnect with its last cursor.</summary>
    SlowConsumer,

    /// <summary>The collection is going away; clients should reconnect with their last cursor.</summary>
    ShuttingDown,

    /// <summary>A write to the transport failed; the connection is presumed gone, so Rocket does not close it.</summary>
    TransportFailed,

    /// <summary>The authentication the stream was opened with expired; the client signs in again and resumes with its last cursor.</summary>
    Expired,
}
