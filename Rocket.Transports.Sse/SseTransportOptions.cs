using System;

namespace Rocket.Transports.Sse;

/// <summary>Settings of the SSE transport. Heartbeats are the collection's (<c>LiveCollectionOptions.HeartbeatInterval</c>, 15 s by default).</summary>
public sealed class SseTransportOptions
{
    private TimeSpan _retry = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The reconnection delay sent as <c>retry:</c> at the start of every stream. Default 3 s, what browsers use when
    /// they are told nothing: stated explicitly so every client behaves the same.
    /// </summary>
    public TimeSpan RetryInterval
    {
        get => _retry;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _retry = value;
        }
    }
}
