using System;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Rocket.LoadTest;

namespace Rocket.Stress;

/// <summary>One message a stream brought: a patch (its cursor's sequence, whether it was a reset, its size, its last bytes) or a close.</summary>
internal readonly record struct StreamMessage(bool IsClose, long Seq, string? Cursor, bool Reset, long Length, string Tail, string? CloseStatus);

/// <summary>
/// A subscriber over one transport that reads every message as it streams by, keeping only its start and its last bytes,
/// so a client holds kilobytes even while it reads a reset of many megabytes. Abort drops the connection with a reset.
/// </summary>
internal abstract class StreamClient : IAsyncDisposable
{
    public static readonly string[] Transports = ["sse", "websocket", "signalr"];

    public abstract string Transport { get; }

    /// <summary>The cursor of the last patch read.</summary>
    public string? LastCursor { get; protected set; }

    public static async Task<StreamClient> ConnectAsync(string transport, int port, string? cursor, CancellationToken cancellationToken)
    {
        StreamClient client = transport switch
        {
            "sse" => new SseClient(),
            "websocket" => new WebSocketClient(),
            "signalr" => new SignalRClient(),
            _ => throw new ArgumentException($"Unknown transport '{transport}'.", nameof(transport)),
        };
        await client.StartAsync(port, cursor, cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>The next message, or null when the connection ended without a close message.</summary>
    public abstract ValueTask<StreamMessage?> NextAsync(CancellationToken cancellationToken);

    /// <summary>Drops the connection at once (TCP reset), as a client that vanishes.</summary>
    public abstract void Abort();

    public abstract ValueTask DisposeAsync();

    protected abstract Task StartAsync(int port, string? cursor, CancellationToken cancellationToken);

    // "7f3a09c1.42" -> 42.
    protected static long SeqOf(string cursor)
    {
        var dot = cursor.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? -1 : long.Parse(cursor.AsSpan(dot + 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    // The string value of "name":"…" in a message's head, or null.
    protected static string? Member(string head, string name)
    {
        var key = $"\"{name}\":\"";
        var at = head.IndexOf(key, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        at += key.Length;
        var end = head.IndexOf('"', at);
        return end < 0 ? null : head[at..end];
    }

    /// <summary>Collects one message as it streams by: its first bytes, its length, its last bytes.</summary>
    protected sealed class MessageScan
    {
        private const int HeadBytes = 256;
        private const int TailBytes = 32;
        private readonly byte[] _head = new byte[HeadBytes];
        private readonly byte[] _tail = new byte[TailBytes];
        private int _headLength;

        public long Length { get; private set; }

        public void Add(ReadOnlySpan<byte> bytes)
        {
            var n = Math.Min(bytes.Length, HeadBytes - _headLength);
            bytes[..n].CopyTo(_head.AsSpan(_headLength));
            _headLength += n;
            if (bytes.Length >= TailBytes)
            {
                bytes[^TailBytes..].CopyTo(_tail);
            }
            else
            {
                // Shift the kept tail left and append.
                _tail.AsSpan(bytes.Length).CopyTo(_tail);
                bytes.CopyTo(_tail.AsSpan(TailBytes - bytes.Length));
            }

            Length += bytes.Length;
        }

        public string Head => Encoding.UTF8.GetString(_head, 0, _headLength);

        public string Tail => Encoding.UTF8.GetString(_tail, (int)Math.Max(0, TailBytes - Length), (int)Math.Min(TailBytes, Length));

        public void Clear()
        {
            _headLength = 0;
            Length = 0;
        }
    }

    private sealed class SseClient : StreamClient
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly MessageScan _line = new();
        private HttpSocketStream? _body;
        private int _start;
        private int _end;
        private string? _event;
        private string? _id;
        private long _dataLength;
        private string _dataHead = string.Empty;
        private string _dataTail = string.Empty;

        public override string Transport => "sse";

        protected override async Task StartAsync(int port, string? cursor, CancellationToken cancellationToken)
        {
            var headers = "Accept: text/event-stream\r\n" + (cursor is null ? string.Empty : $"Last-Event-ID: {cursor}\r\n");
            var response = await HttpSocketResponse.GetAsync(new Uri($"http://127.0.0.1:{port}/{StressServer.Collection}"), headers, cancellationToken).ConfigureAwait(false);
            if (response.Status != 200)
            {
                response.Body.Dispose();
                throw new InvalidOperationException($"SSE answered {response.Status}.");
            }

            _body = response.Body;
        }

        public override async ValueTask<StreamMessage?> NextAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                while (_start < _end)
                {
                    var span = _buffer.AsSpan(_start, _end - _start);
                    var newline = span.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        _line.Add(span);
                        _start = _end;
                        break;
                    }

                    _line.Add(span[..newline]);
                    _start += newline + 1;
                    if (Line() is { } message)
                    {
                        return message;
                    }
                }

                if (_body!.Ended)
                {
                    return null;
                }

                await _body.WaitAsync(cancellationToken).ConfigureAwait(false);
                _start = 0;
                _end = _body.Read(_buffer);
                if (_end == 0 && _body.Ended)
                {
                    return null;
                }
            }
        }

        // One line ended: a field, or the blank line that ends an event.
        private StreamMessage? Line()
        {
            var length = _line.Length;
            if (length == 0)
            {
                StreamMessage? message = null;
                if (_event == "patch" && _id is not null)
                {
                    LastCursor = _id;
                    message = new StreamMessage(false, SeqOf(_id), _id, _dataHead.StartsWith("[{\"op\":\"replace\",\"path\":\"\"", StringComparison.Ordinal), _dataLength, _dataTail, null);
                }
                else if (_event == "close")
                {
                    message = new StreamMessage(true, -1, null, false, _dataLength, _dataTail, Member(_dataHead, "status"));
                }

                _event = null;
                _id = null;
                _dataLength = 0;
                _dataHead = string.Empty;
                return message;
            }

            var head = _line.Head;
            if (head.StartsWith("event: ", StringComparison.Ordinal))
            {
                _event = head[7..];
            }
            else if (head.StartsWith("id: ", StringComparison.Ordinal))
            {
                _id = head[4..];
            }
            else if (head.StartsWith("data: ", StringComparison.Ordinal))
            {
                _dataLength += length - 6;
                _dataHead = head[6..];
                _dataTail = _line.Tail;
            }

            _line.Clear();
            return null;
        }

        public override void Abort()
        {
            // The socket is closed at once, with no more reading: the server sees the connection end.
            _body?.Dispose();
        }

        public override ValueTask DisposeAsync()
        {
            _body?.Dispose();
            return default;
        }
    }

    private class WebSocketClient : StreamClient
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly MessageScan _scan = new();

        protected ClientWebSocket Socket { get; } = new();

        public override string Transport => "websocket";

        protected override async Task StartAsync(int port, string? cursor, CancellationToken cancellationToken)
        {
            Socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
            var query = cursor is null ? string.Empty : $"?lastEventId={Uri.EscapeDataString(cursor)}";
            await Socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/{StressServer.Collection}{query}"), cancellationToken).ConfigureAwait(false);
        }

        public override async ValueTask<StreamMessage?> NextAsync(CancellationToken cancellationToken)
        {
            _scan.Clear();
            try
            {
                while (true)
                {
                    var result = await Socket.ReceiveAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return new StreamMessage(true, -1, null, false, 0, string.Empty, ((int?)Socket.CloseStatus)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    _scan.Add(_buffer.AsSpan(0, result.Count));
                    if (result.EndOfMessage)
                    {
                        var head = _scan.Head;
                        if (head.StartsWith("{\"type\":\"patch\"", StringComparison.Ordinal) && Member(head, "id") is { } id)
                        {
                            LastCursor = id;
                            return new StreamMessage(false, SeqOf(id), id, head.Contains("\"patch\":[{\"op\":\"replace\",\"path\":\"\"", StringComparison.Ordinal), _scan.Length, _scan.Tail, null);
                        }

                        _scan.Clear(); // a close message before the close frame: the frame says it too
                    }
                }
            }
            catch (WebSocketException)
            {
                return null;
            }
        }

        public override void Abort() => Socket.Abort();

        public override ValueTask DisposeAsync()
        {
            Socket.Abort();
            Socket.Dispose();
            return default;
        }
    }

    // SignalR's JSON hub protocol spoken by hand over a WebSocket (no negotiate), so a reset streams by like on the
    // others: the .NET client would hold each whole message.
    private sealed class SignalRClient : WebSocketClient
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly MessageScan _scan = new();
        private readonly SemaphoreSlim _send = new(1, 1);
        private int _start;
        private int _end;
        private bool _ended;
        private long _partsLength;
        private Timer? _pings;

        public override string Transport => "signalr";

        public override ValueTask DisposeAsync()
        {
            _pings?.Dispose();
            return base.DisposeAsync();
        }

        protected override async Task StartAsync(int port, string? cursor, CancellationToken cancellationToken)
        {
            await Socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/rocket"), cancellationToken).ConfigureAwait(false);
            await SendAsync("{\"protocol\":\"json\",\"version\":1}", cancellationToken).ConfigureAwait(false);
            var handshake = await NextRecordAsync(cancellationToken).ConfigureAwait(false);
            if (handshake is null || handshake.Value.Head != "{}")
            {
                throw new InvalidOperationException($"The SignalR handshake failed: {handshake?.Head}");
            }

            // A ping every 10 s, as SignalR's clients send: the server drops a client silent for 30 s
            // (ClientTimeoutInterval), which a client busy reading a long reset would otherwise be.
            _pings = new Timer(static state => _ = ((SignalRClient)state!).PingAsync(), this, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
            var argument = cursor is null ? "null" : $"\"{cursor}\"";
            await SendAsync($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Subscribe\",\"arguments\":[\"{StressServer.Collection}\",{argument}]}}", cancellationToken).ConfigureAwait(false);
        }

        public override async ValueTask<StreamMessage?> NextAsync(CancellationToken cancellationToken)
        {
            while (await NextRecordAsync(cancellationToken).ConfigureAwait(false) is { } record)
            {
                var head = record.Head;
                if (head.Contains("\"target\":\"patchPart\"", StringComparison.Ordinal))
                {
                    // A slice of a long event (docs/signalr.md): counted, and completed by the event's patch message.
                    _partsLength += record.Length;
                    continue;
                }

                if (head.Contains("\"target\":\"patch\"", StringComparison.Ordinal))
                {
                    // "arguments":["bench","<cursor>",true|false,[...] or "<last slice>"]
                    var at = head.IndexOf("\"arguments\":[", StringComparison.Ordinal);
                    var fields = head[(at + 13)..].Split(',', 4);
                    var id = fields[1].Trim('"');
                    LastCursor = id;
                    var length = _partsLength + record.Length;
                    _partsLength = 0;
                    return new StreamMessage(false, SeqOf(id), id, fields[2] == "true", length, record.Tail, null);
                }

                if (head.Contains("\"target\":\"close\"", StringComparison.Ordinal))
                {
                    var at = head.IndexOf("\"arguments\":[", StringComparison.Ordinal);
                    var fields = head[(at + 13)..].Split(',', 3);
                    return new StreamMessage(true, -1, null, false, 0, string.Empty, fields[1].Trim('"'));
                }

                if (head.StartsWith("{\"type\":7", StringComparison.Ordinal))
                {
                    return new StreamMessage(true, -1, null, false, 0, string.Empty, Member(head, "error") ?? "closed");
                }

                if (head.StartsWith("{\"type\":3", StringComparison.Ordinal) && Member(head, "error") is { } error)
                {
                    throw new InvalidOperationException($"Subscribe failed: {error}");
                }
            }

            return null;
        }

        private async Task SendAsync(string text, CancellationToken cancellationToken)
        {
            await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await Socket.SendAsync(Encoding.UTF8.GetBytes(text + "\u001e"), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _send.Release();
            }
        }

        private async Task PingAsync()
        {
            try
            {
                await SendAsync("{\"type\":6}", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is gone; the reader sees it.
            }
        }

        // The next record (up to the 0x1E separator), scanned as it streams by.
        private async ValueTask<(string Head, long Length, string Tail)?> NextRecordAsync(CancellationToken cancellationToken)
        {
            _scan.Clear();
            while (true)
            {
                if (_start < _end)
                {
                    var span = _buffer.AsSpan(_start, _end - _start);
                    var separator = span.IndexOf((byte)0x1e);
                    if (separator >= 0)
                    {
                        _scan.Add(span[..separator]);
                        _start += separator + 1;
                        return (_scan.Head, _scan.Length, _scan.Tail);
                    }

                    _scan.Add(span);
                    _start = _end;
                }

                if (_ended)
                {
                    return null;
                }

                try
                {
                    var result = await Socket.ReceiveAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _ended = true;
                        return null;
                    }

                    _start = 0;
                    _end = result.Count;
                }
                catch (WebSocketException)
                {
                    _ended = true;
                    return null;
                }
            }
        }
    }
}
