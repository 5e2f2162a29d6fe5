using System;

namespace Rocket;

/// <summary>Limits that hold across every collection of the process. Configure with <c>services.Configure&lt;RocketOptions&gt;(...)</c>.</summary>
public sealed class RocketOptions
{
    /// <summary>
    /// The most subscribers the process admits over all its collections, every transport counted; past it a stream
    /// request is refused (503 with <c>Retry-After</c> on SSE and WebSocket, a hub error on SignalR). Default
    /// <see cref="int.MaxValue"/> (no limit): size it from what one subscriber costs (docs/benchmarks.md: about 9 KB idle
    /// over SSE) and the memory the process may use, so a reconnect storm is refused at the door rather than met with
    /// memory the machine does not have.
    /// </summary>
    public int MaxSubscribers { get; set; } = int.MaxValue;
}
