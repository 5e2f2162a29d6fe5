using System;
using System.Buffers;
using Rocket.Live;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Frames an event as one complete WebSocket text frame (RFC 6455 section 5.2: FIN, text opcode, unmasked, its length)
/// whose payload is <c>{"type":"patch","id":"&lt;cursor&gt;","patch":&lt;JSON Patch&gt;}</c>, once per event for every
/// WebSocket subscriber.
/// </summary>
/// <remarks>
/// <para>
/// A server's frames are never masked (section 5.1), so the whole frame, header included, is the same for every
/// subscriber: the endpoint writes it to the connection as it is, and a batch of them with one write. A transport over
/// a <see cref="System.Net.WebSockets.WebSocket"/> (which writes its own header) sends the payload after the header.
/// </para>
/// <para>
/// The patch is copied in as it is (it is already compact UTF-8 JSON) and the cursor is plain ASCII that needs no
/// escaping, so the message is built by concatenation, never re-encoded. A reset is framed the same way: its patch is
/// one <c>replace</c> at path <c>""</c>.
/// </para>
/// </remarks>
internal sealed class WebSocketEventFramer : IEventFramer
{
    private WebSocketEventFramer()
    {
    }

    /// <summary>The single instance.</summary>
    public static WebSocketEventFramer Instance { get; } = new();

    /// <summary>Always <c>websocket</c>.</summary>
    public string Kind => "websocket";

    private static ReadOnlySpan<byte> Prefix => "{\"type\":\"patch\",\"id\":\""u8;

    private static ReadOnlySpan<byte> PatchMember => "\",\"patch\":"u8;

    /// <summary>The exact length of the message (the frame's payload) for a patch of <paramref name="patchLength"/> bytes and a cursor of <paramref name="cursorLength"/> characters.</summary>
    internal static int GetMessageLength(int cursorLength, int patchLength) => Prefix.Length + cursorLength + PatchMember.Length + patchLength + 1;

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> cursor = stackalloc byte[Cursor.MaxLength];
        liveEvent.Cursor.TryFormat(cursor, out var cursorLength);
        var patch = liveEvent.Patch.Span;
        var messageLength = GetMessageLength(cursorLength, patch.Length);
        var span = output.GetSpan(WebSocketFrame.GetHeaderLength(messageLength) + messageLength);
        var written = WebSocketFrame.WriteTextHeader(span, messageLength);
        Prefix.CopyTo(span[written..]);
        written += Prefix.Length;
        cursor[..cursorLength].CopyTo(span[written..]);
        written += cursorLength;
        PatchMember.CopyTo(span[written..]);
        written += PatchMember.Length;
        patch.CopyTo(span[written..]);
        written += patch.Length;
        span[written++] = (byte)'}';
        output.Advance(written);
    }
}
