using System;
using System.Buffers;
using Rocket.Live;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// Frames an event as the text message <c>{"type":"patch","id":"&lt;cursor&gt;","patch":&lt;JSON Patch&gt;}</c>, once
/// per event for every WebSocket subscriber. The patch is copied in as it is (it is already compact UTF-8 JSON) and
/// the cursor is plain ASCII that needs no escaping, so the message is built by concatenation, never re-encoded. A
/// reset is framed the same way: its patch is one <c>replace</c> at path <c>""</c>.
/// </summary>
public sealed class WebSocketEventFramer : IEventFramer
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

    /// <summary>The exact length of the message for a patch of <paramref name="patchLength"/> bytes and a cursor of <paramref name="cursorLength"/> characters.</summary>
    internal static int GetLength(int cursorLength, int patchLength) => Prefix.Length + cursorLength + PatchMember.Length + patchLength + 1;

    /// <inheritdoc/>
    public void Frame(LiveEvent liveEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(liveEvent);
        ArgumentNullException.ThrowIfNull(output);
        var patch = liveEvent.Patch.Span;
        var span = output.GetSpan(GetLength(Cursor.MaxLength, patch.Length));
        Prefix.CopyTo(span);
        var written = Prefix.Length;
        liveEvent.Cursor.TryFormat(span[written..], out var cursorLength);
        written += cursorLength;
        PatchMember.CopyTo(span[written..]);
        written += PatchMember.Length;
        patch.CopyTo(span[written..]);
        written += patch.Length;
        span[written++] = (byte)'}';
        output.Advance(written);
    }
}
