using System;
using System.Buffers;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Frames an event once for every SignalR subscriber: a flag byte (<c>r</c> for a reset, <c>e</c> otherwise), the cursor
/// in ASCII, a line feed, then the JSON Patch array as UTF-8 (<c>e7f3a09c1.42\n[{"op":"add",...}]</c>).
/// </summary>
/// <remarks>
/// This is not what goes on the wire: SignalR writes every stream item itself, once per connection, in the hub protocol
/// the connection negotiated (JSON or MessagePack). The frame is the shared, immutable part a <see cref="RocketHubEvent"/>
/// points into, so the per-subscriber work is SignalR's serialization and nothing of Rocket's but a small wrapper.
/// </remarks>
public sealed class SignalREventFramer : IEventFramer
{
    internal const byte EventFlag = (byte)'e';
    internal const byte ResetFlag = (byte)'r';

    private SignalREventFramer()
    {
    }

    /// <summary>The single instance.</summary>
    public static SignalREventFramer Instance { get; } = new();

    /// <summary>Always <c>signalr</c>.</summary>
    public string Kind => "signalr";

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        ArgumentNullException.ThrowIfNull(output);
        var patch = liveEvent.Patch.Span;
        var span = output.GetSpan(1 + Cursor.MaxLength + 1 + patch.Length);
        span[0] = liveEvent.IsReset ? ResetFlag : EventFlag;
        liveEvent.Cursor.TryFormat(span[1..], out var cursorLength);
        var written = 1 + cursorLength;
        span[written++] = (byte)'\n';
        patch.CopyTo(span[written..]);
        output.Advance(written + patch.Length);
    }
}
