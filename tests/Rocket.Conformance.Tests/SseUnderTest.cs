using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;

namespace Rocket.Conformance.Tests;

/// <summary>Server-Sent Events: <c>GET /messages</c> with <c>Accept: text/event-stream</c>, read line by line.</summary>
public sealed class SseUnderTest : ITransportUnderTest
{
    public string Name => "sse";

    public bool HeartbeatsVisible => true;

    public void Register(IRocketBuilder rocket) => rocket.AddSseTransport();

    public void Map(WebApplication app)
    {
    }

    public async Task<IStreamClient> ConnectAsync(Uri baseAddress, string collection, string? cursor, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Get, "/" + collection);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (cursor is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", cursor);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new Client(http, response, new StreamReader(stream, Encoding.UTF8));
    }

    public async Task<IAsyncDisposable> ConnectStalledAsync(Uri baseAddress, string collection, CancellationToken cancellationToken)
    {
        // A raw socket with a small receive buffer that sends the request and never reads: the server's writes back up.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(baseAddress.Host, baseAddress.Port, cancellationToken);
        var request = $"GET /{collection} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nAccept: text/event-stream\r\n\r\n";
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

    private sealed class Client(HttpClient http, HttpResponseMessage response, StreamReader reader) : IStreamClient
    {
        private bool _ended;
        private string? _endReason;

        public async Task<StreamMessage> ReadAsync(CancellationToken cancellationToken)
        {
            string? eventType = null, id = null;
            StringBuilder? data = null;
            while (!_ended)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken);
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    _endReason = e.Message;
                    line = null;
                }

                if (line is null)
                {
                    _ended = true;
                    break;
                }

                if (line.Length == 0)
                {
                    if (data is null)
                    {
                        continue;
                    }

                    return eventType == "close"
                        ? new StreamMessage(StreamMessageKind.Close, Reason: data.ToString())
                        : new StreamMessage(StreamMessageKind.Patch, id, data.ToString());
                }

                if (line[0] == ':')
                {
                    // ": rocket" opens the stream; a bare ":" is the heartbeat.
                    if (line.Length == 1)
                    {
                        return new StreamMessage(StreamMessageKind.Heartbeat);
                    }

                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "event":
                        eventType = value;
                        break;
                    case "id":
                        id = value;
                        break;
                    case "data":
                        data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value);
                        break;
                }
            }

            return new StreamMessage(StreamMessageKind.End, Reason: _endReason);
        }

        public ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            http.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
