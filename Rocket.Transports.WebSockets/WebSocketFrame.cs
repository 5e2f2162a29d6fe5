using System;
using System.Buffers.Binary;
using System.Diagnostics;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The header of a server-to-client RFC 6455 data frame: FIN, the text opcode, no mask, and the payload length in 7, 16
/// or 64 bits (section 5.2). A server never masks (section 5.1), so a framed event is the same bytes for every subscriber.
/// </summary>
internal static class WebSocketFrame
{
    /// <summary>The longest header: 2 bytes and a 64-bit length.</summary>
    public const int MaxHeaderLength = 10;

    // FIN (this frame is the whole message) and opcode 0x1 (text).
    private const byte FinText = 0x81;

    /// <summary>The length of the header of a frame with <paramref name="payloadLength"/> bytes of payload.</summary>
    public static int GetHeaderLength(long payloadLength) => payloadLength switch
    {
        <= 125 => 2,
        <= ushort.MaxValue => 4,
        _ => MaxHeaderLength,
    };

    /// <summary>Writes the header of a final, unmasked text frame of <paramref name="payloadLength"/> bytes; returns its length.</summary>
    public static int WriteTextHeader(Span<byte> destination, long payloadLength)
    {
        Debug.Assert(payloadLength >= 0);
        destination[0] = FinText;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }

        // The extended lengths are in network byte order, in the fewest bytes that hold them (section 5.2).
        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return MaxHeaderLength;
    }

    /// <summary>
    /// Writes the header of one fragment of a text message (RFC 6455 section 5.4): the first has the text opcode, the
    /// others continue it (opcode 0), and only the last has FIN. Returns its length.
    /// </summary>
    public static int WriteFragmentHeader(Span<byte> destination, bool first, bool last, long payloadLength)
    {
        var length = WriteTextHeader(destination, payloadLength);
        destination[0] = (byte)((last ? 0x80 : 0) | (first ? 0x1 : 0x0));
        return length;
    }

    /// <summary>
    /// The payload of a frame this assembly built (header first): what a <see cref="System.Net.WebSockets.WebSocket"/>
    /// sends as a message, since it writes its own header.
    /// </summary>
    public static ReadOnlyMemory<byte> GetPayload(ReadOnlyMemory<byte> frame)
    {
        var length = frame.Span[1] switch
        {
            126 => 4,
            127 => MaxHeaderLength,
            _ => 2,
        };
        return frame[length..];
    }
}
