using System;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets.Tests;

/// <summary>What a client received: a text message parsed as JSON, or the close frame.</summary>
internal sealed record Received(JsonElement Message, WebSocketCloseStatus? CloseStatus, string? CloseDescription)
{
    public bool IsClose => CloseStatus is not null;

    public string Type => Message.GetProperty("type").GetString()!;

    public string Id => Message.GetProperty("id").GetString()!;

    public string Patch => Message.GetProperty("patch").GetRawText();

    public bool IsReset => Type == "patch" && Message.GetProperty("patch")[0].GetProperty("path").GetString() == string.Empty;
}

internal static class Client
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Receives one whole message (or the close), failing after <see cref="Timeout"/>.</summary>
    public static async Task<Received> ReceiveAsync(this WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(default, socket.CloseStatus, socket.CloseStatusDescription);
            }

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage)
            {
                return new Received(JsonElement.Parse(buffer.AsSpan(0, length)), null, null);
            }
        }
    }

    /// <summary>
    /// Receives until the close frame and answers it, as a well-behaved client does; returns it. Messages before it are
    /// passed to <paramref name="onMessage"/>.
    /// </summary>
    public static async Task<Received> ReceiveCloseAsync(this WebSocket socket, Action<Received>? onMessage = null)
    {
        while (true)
        {
            var received = await socket.ReceiveAsync();
            if (received.IsClose)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }

                return received;
            }

            onMessage?.Invoke(received);
        }
    }

    public static Task SendTextAsync(this WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
}
