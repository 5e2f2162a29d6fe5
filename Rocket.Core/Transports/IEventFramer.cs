using System.Buffers;
using Rocket.Live;

namespace Rocket.Transports;

/// <summary>
/// Turns an event into the bytes one kind of transport puts on the wire (an SSE <c>event:/id:/data:</c> block, a
/// WebSocket text message, a SignalR hub message). A collection calls it at most once per event and kind, and every
/// subscriber of that kind gets the same bytes, so a framer must depend on nothing but the event.
/// </summary>
/// <remarks>
/// Implementations are stateless singletons, shared by every transport of their kind. A frame should hold the whole
/// patch (every built-in one does): the collection keeps the events a subscriber may still need by their patch bytes,
/// so with frames shorter than their patches a subscriber far behind may be closed as a slow consumer before its queue's
/// byte limit.
/// </remarks>
public interface IEventFramer
{
    /// <summary>
    /// The kind of framing, e.g. <c>sse</c>. Two framers with the same kind must produce the same bytes: the collection
    /// caches frames by kind.
    /// </summary>
    string Kind { get; }

    /// <summary>Writes the framed bytes of <paramref name="liveEvent"/> to <paramref name="output"/>: at least one byte (an empty frame means "heartbeat" to a subscription's queue).</summary>
    /// <remarks>
    /// Copy what is needed during the call and keep no <see cref="System.ReadOnlyMemory{T}"/> taken from the event's
    /// <see cref="LiveEvent.Patch"/> past it: while a new event is framed the first time, its patch may still be in the
    /// collection's scratch buffer (the event then keeps it inside this frame, when the frame holds it byte for byte).
    /// </remarks>
    void Frame(LiveEvent liveEvent, IBufferWriter<byte> output);
}
