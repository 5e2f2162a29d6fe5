using System;
using System.Buffers;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Live;

namespace Rocket.Transports.WebSockets.Tests;

public sealed class WebSocketEventFramerTests
{
    [Fact]
    public void Frame_PatchEvent_WritesTextFrameHeaderThenTypeIdAndPatchByteExact()
    {
        var patch = Encoding.UTF8.GetBytes("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"é\"}}]");
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), patch, isReset: false), output);

        const string Message = "{\"type\":\"patch\",\"id\":\"7f3a09c1.42\",\"patch\":[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"é\"}}]}";
        // FIN and text, then the length (110 bytes: the 7-bit form), no mask.
        Assert.Equal(new byte[] { 0x81, 110 }, output.WrittenSpan[..2].ToArray());
        Assert.Equal(110, Encoding.UTF8.GetByteCount(Message));
        Assert.Equal(Message, Encoding.UTF8.GetString(output.WrittenSpan[2..]));
    }

    [Fact]
    public void Frame_Reset_IsAPatchMessageWithOneReplaceOfTheRoot()
    {
        var patch = Encoding.UTF8.GetBytes("[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{}}}]");
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(1, 0), patch, isReset: true), output);

        Assert.Equal("{\"type\":\"patch\",\"id\":\"00000001.0\",\"patch\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{}}}]}",
            Encoding.UTF8.GetString(WebSocketFrame.GetPayload(output.WrittenMemory).Span));
    }

    [Fact]
    public void Frame_LongestCursor_PayloadLengthMatchesGetMessageLength()
    {
        var patch = "[]"u8.ToArray();
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("m", new Cursor(uint.MaxValue, long.MaxValue), patch, false), output);

        var payload = WebSocketFrame.GetPayload(output.WrittenMemory);
        Assert.Equal(WebSocketEventFramer.GetMessageLength(Cursor.MaxLength, patch.Length), payload.Length);
        Assert.StartsWith("{\"type\":\"patch\",\"id\":\"ffffffff.9223372036854775807\"", Encoding.UTF8.GetString(payload.Span), StringComparison.Ordinal);
    }

    // RFC 6455 section 5.2: up to 125 in the 7-bit length, up to 65535 in 16 bits after 126, beyond in 64 bits after 127,
    // all in network byte order and never masked by a server.
    [Theory]
    [InlineData(125, new byte[] { 0x81, 125 })]
    [InlineData(126, new byte[] { 0x81, 126, 0x00, 126 })]
    [InlineData(65535, new byte[] { 0x81, 126, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00 })]
    public void Frame_MessageLengthAtBoundary_HeaderUsesTheShortestLength(int messageLength, byte[] header)
    {
        var cursor = new Cursor(1, 2);
        var patch = PatchOfMessageLength(cursor, messageLength);
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("m", cursor, patch, false), output);

        Assert.Equal(header, output.WrittenSpan[..header.Length].ToArray());
        Assert.Equal(header.Length + messageLength, output.WrittenCount);
        Assert.Equal(header.Length, WebSocketFrame.GetHeaderLength(messageLength));
        Assert.Equal(messageLength, WebSocketFrame.GetPayload(output.WrittenMemory).Length);
        Assert.Equal((byte)'}', output.WrittenSpan[^1]);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_000)]
    public async Task Frame_ReadByAClientWebSocket_OneTextMessageWithTheMessage(int messageLength)
    {
        var cursor = new Cursor(0x7f3a09c1, 7);
        var patch = PatchOfMessageLength(cursor, messageLength);
        var output = new ArrayBufferWriter<byte>();
        WebSocketEventFramer.Instance.Frame(new LiveEvent("m", cursor, patch, false), output);
        WebSocketEventFramer.Instance.Frame(new LiveEvent("m", cursor, patch, false), output); // two frames back to back

        using var client = WebSocket.CreateFromStream(new MemoryStream(output.WrittenSpan.ToArray()), new WebSocketCreationOptions { IsServer = false });
        var expected = WebSocketFrame.GetPayload(output.WrittenMemory[..(output.WrittenCount / 2)]).ToArray();
        for (var i = 0; i < 2; i++)
        {
            var buffer = new byte[expected.Length + 1];
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.Equal(expected, buffer.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void Kind_IsWebsocket() => Assert.Equal("websocket", WebSocketEventFramer.Instance.Kind);

    [Fact]
    public void TruncateReason_Over123Bytes_CutsAtACharacterBoundary()
    {
        var reason = new string('é', 100); // 200 bytes

        var cut = WebSocketTransport.TruncateReason(reason);

        Assert.True(Encoding.UTF8.GetByteCount(cut) <= RocketWebSocketProtocol.MaxCloseReasonBytes);
        Assert.EndsWith("...", cut, StringComparison.Ordinal);
        Assert.Equal("short", WebSocketTransport.TruncateReason("short"));
    }

    // A JSON array padded with spaces so that the whole message is exactly messageLength bytes.
    private static byte[] PatchOfMessageLength(Cursor cursor, int messageLength)
    {
        var patchLength = messageLength - WebSocketEventFramer.GetMessageLength(cursor.ToString().Length, 0);
        var patch = new byte[patchLength];
        patch.AsSpan().Fill((byte)' ');
        patch[0] = (byte)'[';
        patch[^1] = (byte)']';
        return patch;
    }
}
