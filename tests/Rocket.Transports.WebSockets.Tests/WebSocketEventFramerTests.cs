using System.Buffers;
using System.Text;
using Rocket.Live;

namespace Rocket.Transports.WebSockets.Tests;

public sealed class WebSocketEventFramerTests
{
    [Fact]
    public void Frame_PatchEvent_WritesTypeIdAndPatchByteExact()
    {
        var patch = Encoding.UTF8.GetBytes("[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"é\"}}]");
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), patch, isReset: false), output);

        Assert.Equal(
            "{\"type\":\"patch\",\"id\":\"7f3a09c1.42\",\"patch\":[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"id\":\"1\",\"text\":\"é\"}}]}",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Frame_Reset_IsAPatchMessageWithOneReplaceOfTheRoot()
    {
        var patch = Encoding.UTF8.GetBytes("[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{}}}]");
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("messages", new Cursor(1, 0), patch, isReset: true), output);

        Assert.Equal("{\"type\":\"patch\",\"id\":\"00000001.0\",\"patch\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"messages\":{}}}]}",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Frame_LongestCursor_LengthMatchesGetLength()
    {
        var patch = "[]"u8.ToArray();
        var output = new ArrayBufferWriter<byte>();

        WebSocketEventFramer.Instance.Frame(new LiveEvent("m", new Cursor(uint.MaxValue, long.MaxValue), patch, false), output);

        Assert.Equal(WebSocketEventFramer.GetLength(Cursor.MaxLength, patch.Length), output.WrittenCount);
        Assert.StartsWith("{\"type\":\"patch\",\"id\":\"ffffffff.9223372036854775807\"", Encoding.UTF8.GetString(output.WrittenSpan), System.StringComparison.Ordinal);
    }

    [Fact]
    public void Kind_IsWebsocket() => Assert.Equal("websocket", WebSocketEventFramer.Instance.Kind);

    [Fact]
    public void TruncateReason_Over123Bytes_CutsAtACharacterBoundary()
    {
        var reason = new string('é', 100); // 200 bytes

        var cut = WebSocketTransport.TruncateReason(reason);

        Assert.True(Encoding.UTF8.GetByteCount(cut) <= RocketWebSocketProtocol.MaxCloseReasonBytes);
        Assert.EndsWith("...", cut, System.StringComparison.Ordinal);
        Assert.Equal("short", WebSocketTransport.TruncateReason("short"));
    }
}
