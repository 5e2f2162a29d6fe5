using System;
using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;

namespace Rocket.Conformance.Tests;

/// <summary>The <c>rocket.jsonpatch.v1</c> WebSocket subprotocol, read with <see cref="ClientWebSocket"/>.</summary>
public sealed class WebSocketUnderTest : ITransportUnderTest
{
    public string Name => "websocket";

    // Keep-alive is the WebSocket ping, which ClientWebSocket answers without showing it.
    public bool HeartbeatsVisible => false;

    public void Register(IRocketBuilder rocket) => rocket.AddSseTransport().AddWebSocketTransport();

    public void Map(WebApplication app) => app.UseWebSockets();

    public async Task<IStreamClient> ConnectAsync(Uri baseAddress, string collection, string? cursor, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
        var query = cursor is null ? string.Empty : "?lastEventId=" + Uri.EscapeDataString(cursor);
        await socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/{collection}{query}"), cancellationToken);
        if (cursor is null)
        {
            // No cursor: say so at once rather than wait out the server's window for a resume message.
            await socket.SendAsync("""{"type":"resume"}"""u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
        }

        return new Client(socket);
    }

    public async Task<IAsyncDisposable> ConnectStalledAsync(Uri baseAddress, string collection, CancellationToken cancellationToken)
    {
        // A raw socket with a small receive buffer performs the upgrade by hand and then never reads.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(baseAddress.Host, baseAddress.Port, cancellationToken);
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        var request = $"GET /{collection}?lastEventId=none HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: rocket.jsonpatch.v1\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken);
        return new Stalled(socket);
    }

    private sealed class Stalled(Socket socket) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Client(ClientWebSocket socket) : IStreamClient
    {
        private readonly ArrayBufferWriter<byte> _message = new(4096);
        private bool _ended;

        public async Task<StreamMessage> ReadAsync(CancellationToken cancellationToken)
        {
            if (_ended)
            {
                return new StreamMessage(StreamMessageKind.End);
            }

            _message.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            try
            {
                do
                {
                    result = await socket.ReceiveAsync(_message.GetMemory(4096), cancellationToken);
                    _message.Advance(result.Count);
                }
                while (!result.EndOfMessage);
            }
            catch (WebSocketException e)
            {
                _ended = true;
                return new StreamMessage(StreamMessageKind.End, Reason: e.Message);
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                _ended = true;
                return new StreamMessage(StreamMessageKind.End, Reason: $"{socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            using var json = JsonDocument.Parse(_message.WrittenMemory);
            var root = json.RootElement;
            return root.GetProperty("type").GetString() switch
            {
                "patch" => new StreamMessage(StreamMessageKind.Patch, root.GetProperty("id").GetString(), root.GetProperty("patch").GetRawText()),
                "close" or "error" => new StreamMessage(StreamMessageKind.Close, Reason: root.GetRawText()),
                var other => throw new InvalidOperationException($"Unknown message type '{other}'."),
            };
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
