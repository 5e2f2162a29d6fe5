using System;

namespace Rocket.Transports.Sse;

/// <summary>Settings of the SSE transport. Heartbeats are the collection's (<c>LiveCollectionOptions.HeartbeatInterval</c>, 15 s by default).</summary>
public sealed class SseTransportOptions
{
    /// <summary>
    /// The middle of the reconnection delay sent as <c>retry:</c> at the start of every stream. Default 3 s, what
    /// browsers use when they are told nothing: stated explicitly so every client behaves about the same. Each stream
    /// gets its own value around it (<see cref="RetryJitter"/>).
    /// </summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How far each stream's <c>retry:</c> is spread around <see cref="RetryInterval"/>, as a fraction of it: the value
    /// is drawn per stream, uniformly from <c>RetryInterval × (1 − RetryJitter)</c> to <c>RetryInterval × (1 +
    /// RetryJitter)</c>, in whole milliseconds. Default 0.5 (1.5 to 4.5 s with the default interval): when a server stops,
    /// its browsers (whose EventSource waits exactly <c>retry:</c> before reconnecting, with no jitter of its own) come
    /// back spread over three seconds instead of all in the same instant, and the mean delay stays the interval. 0 sends
    /// the interval itself on every stream; at most 1 (from nothing to twice the interval).
    /// </summary>
    public double RetryJitter { get; set; } = 0.5;

    /// <summary>
    /// The longest one write to a stream may wait for the client to read. Past it the connection is aborted and the
    /// subscription ends, whatever is flowing (events or only heartbeats), so a client that stopped reading, or a peer
    /// that vanished without closing, holds its memory for at most this long. Default 10 s, as the WebSocket transport.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>One stream's <c>retry:</c>: <see cref="RetryInterval"/> spread by <see cref="RetryJitter"/>.</summary>
    internal TimeSpan NextRetry()
    {
        var jitter = RetryJitter;
        if (jitter == 0 || RetryInterval == TimeSpan.Zero)
        {
            return RetryInterval;
        }

        // Not a security use: the spread only has to be even.
#pragma warning disable CA5394
        var factor = 1 - jitter + (2 * jitter * Random.Shared.NextDouble());
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(Math.Round(RetryInterval.TotalMilliseconds * factor));
    }
}
