using System;
using System.Buffers;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Transports.Sse;

/// <summary>
/// Frames an event as <c>event: patch\nid: &lt;cursor&gt;\ndata: &lt;JSON Patch&gt;\n\n</c>, once per event for every
/// SSE subscriber. A reset is framed the same way: its data is one <c>replace</c> at path <c>""</c>.
/// </summary>
internal sealed class SseEventFramer : IEventFramer
{
    private SseEventFramer()
    {
    }

    /// <summary>The single instance.</summary>
    public static SseEventFramer Instance { get; } = new();

    /// <inheritdoc/>
    public string Kind => "sse";

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        Span<byte> id = stackalloc byte[Cursor.MaxLength];
        liveEvent.Cursor.TryFormat(id, out var idLength);
        SseFrameWriter.WriteEvent(output, SseEventType.Patch, id[..idLength], liveEvent.Patch.Span);
    }
}
