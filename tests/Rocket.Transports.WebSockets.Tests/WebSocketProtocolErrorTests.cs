using System;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>
/// A client that breaks the protocol gets the close frame with its code (RFC 6455 section 7.4.1), over a real Kestrel
/// and a real <see cref="ClientWebSocket"/>, on the collection's own WebSocket and on the multi-collection one: the
/// close handshake completes, never a TCP reset, which a client would see as a network failure with no reason.
/// </summary>
public sealed class WebSocketProtocolErrorTests
{
    public enum Violation
    {
        NotJson,
        UnknownType,
        Oversized,
        OversizedInFrames,
        InvalidUtf8,
        InvalidUtf8Split,
        Binary,
    }

    public static TheoryData<bool, Violation, WebSocketCloseStatus> Cases()
    {
        var data = new TheoryData<bool, Violation, WebSocketCloseStatus>();
        foreach (var multi in new[] { false, true })
        {
            data.Add(multi, Violation.NotJson, WebSocketCloseStatus.PolicyViolation);
            data.Add(multi, Violation.UnknownType, WebSocketCloseStatus.PolicyViolation);
            data.Add(multi, Violation.Oversized, WebSocketCloseStatus.MessageTooBig);
            data.Add(multi, Violation.OversizedInFrames, WebSocketCloseStatus.MessageTooBig);
            data.Add(multi, Violation.InvalidUtf8, WebSocketCloseStatus.InvalidPayloadData);
            data.Add(multi, Violation.InvalidUtf8Split, WebSocketCloseStatus.InvalidPayloadData);
            data.Add(multi, Violation.Binary, WebSocketCloseStatus.InvalidMessageType);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ClientBreaksTheProtocol_CloseFrameWithItsCode_HandshakeCompletes(bool multiCollection, Violation violation, WebSocketCloseStatus expected)
    {
        await using var server = await TestServer.StartAsync();
        using var client = await TestServer.ConnectAsync(multiCollection ? server.MultiCollectionUri : server.WebSocketUri);
        if (multiCollection)
        {
            await client.SendTextAsync("""{"type":"subscribe","collection":"messages"}""");
        }

        // The stream is live before the client misbehaves.
        Assert.True((await client.ReceiveAsync()).IsReset);

        await SendAsync(client, violation);
        var close = await client.ReceiveCloseAsync();
        using var timeout = new CancellationTokenSource(Client.Timeout);
        while (server.Collection.SubscriberCount != 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(expected, close.CloseStatus);
        if (expected != WebSocketCloseStatus.InvalidPayloadData)
        {
            // Rocket's own refusals say why; 1007 comes from the WebSocket implementation, with no reason.
            Assert.False(string.IsNullOrEmpty(close.CloseDescription));
        }

        Assert.Equal(WebSocketState.Closed, client.State);
    }

    private static async Task SendAsync(ClientWebSocket client, Violation violation)
    {
        var none = CancellationToken.None;
        switch (violation)
        {
            case Violation.NotJson:
                await client.SendTextAsync("{\"type\":");
                break;
            case Violation.UnknownType:
                await client.SendTextAsync("""{"type":"hello"}""");
                break;
            case Violation.Oversized:
                await client.SendTextAsync(new string(' ', 5000));
                break;
            case Violation.OversizedInFrames:
                // Past the limit by frames of 1 KiB: the server stops reading at the limit, not at the end of the message.
                var chunk = Encoding.UTF8.GetBytes(new string(' ', 1024));
                for (var i = 0; i < 8; i++)
                {
                    await client.SendAsync(chunk, WebSocketMessageType.Text, endOfMessage: i == 7, none);
                }

                break;
            case Violation.InvalidUtf8:
                await client.SendAsync(new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }, WebSocketMessageType.Text, true, none);
                break;
            case Violation.InvalidUtf8Split:
                // A byte that can never appear in UTF-8, in the second frame of a message.
                await client.SendAsync("{\"type\":\"resume\""u8.ToArray(), WebSocketMessageType.Text, false, none);
                await client.SendAsync(new byte[] { (byte)',', 0xFF, (byte)'}' }, WebSocketMessageType.Text, true, none);
                break;
            case Violation.Binary:
                await client.SendAsync("""{"type":"resume"}"""u8.ToArray(), WebSocketMessageType.Binary, true, none);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(violation));
        }
    }
}
