using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports;

/// <summary>
/// One connection's way out: writes framed events, heartbeats, and a close with a reason. Rocket's core knows nothing
/// else about the connection (HTTP, sockets, hubs are the transport's business), and never reads from it.
/// </summary>
/// <remarks>
/// <para>
/// A subscription calls the write methods from one loop at a time, never concurrently. The frames it passes are shared
/// by every subscriber of the same kind: a transport must not modify them, and may keep them as long as it needs (the
/// frames, not the list <see cref="WriteManyAsync"/> is given).
/// </para>
/// <para>
/// A write should not block its thread: it hands the frames to the connection and returns, with a task that completes
/// later if the connection has to drain first. Rocket resumes many subscribers' loops one after another on one
/// thread-pool thread (up to 64 per event), so a write that blocks delays the subscribers resumed after it.
/// </para>
/// <para>
/// Cancellation of the token passed to a method is a normal end of the connection, not an error: the transport stops
/// and may throw <see cref="OperationCanceledException"/>, which Rocket treats as such.
/// </para>
/// </remarks>
public interface ITransport
{
    /// <summary>What this transport is: its name, media type or subprotocol, and capabilities.</summary>
    TransportDescriptor Descriptor { get; }

    /// <summary>The framer of this transport's kind; the same instance for every transport of that kind.</summary>
    IEventFramer Framer { get; }

    /// <summary>Writes one framed event and flushes it.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several framed events, in order, as one write and one flush: the pending events of a subscriber are
    /// coalesced this way because the system call, not the copy, dominates the cost of fan-out.
    /// </summary>
    /// <remarks>
    /// The list of frames (<paramref name="frames"/> itself) is lent for the call: Rocket rents it from a pool and reuses
    /// it once the returned task has completed (or been canceled). A transport that keeps frames beyond that keeps the
    /// frames (the inner memories, which are never pooled), not the list.
    /// </remarks>
    ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default);

    /// <summary>Sends whatever keeps this kind of connection alive through proxies (an SSE comment, a ping).</summary>
    ValueTask HeartbeatAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Closes the connection, telling the peer why when the protocol allows it. Called at most once, by Rocket, when
    /// Rocket ends the subscription (slow consumer, shutdown); a transport bounds the time it takes by the token.
    /// </summary>
    ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default);
}
