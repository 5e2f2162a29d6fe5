using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Rocket.LoadTest;

/// <summary>What all receivers of one run share: the sequence base, the counters and the histograms.</summary>
/// <remarks>
/// Receivers report once per read, not once per frame: a read of a flood carries many frames, and the shared counters
/// and histogram, touched from both cores, would otherwise cost the load process more than parsing the frames does.
/// </remarks>
internal sealed class RunState
{
    private long _delivered;
    private long _reads;
    private long _gaps;
    private long _lastDelivery;

    public RunState(long seqBase) => SeqBase = seqBase;

    /// <summary>Events of this run carry sequence numbers above this; anything else (a reset, an older run) is ignored.</summary>
    public long SeqBase { get; }

    /// <summary>Where latencies from the send (<c>ts</c>) go now (the paced phase, then the flood phase); null records nothing.</summary>
    public LatencyHistogram? Histogram { get; set; }

    /// <summary>
    /// Where latencies from the due time (<c>due</c>, the schedule's slot) go now: the paced phase only, as a flood has no
    /// schedule (its <c>due</c> is its <c>ts</c>); null records nothing.
    /// </summary>
    public LatencyHistogram? DueHistogram { get; set; }

    /// <summary>
    /// With two nodes, where latencies from the send go for each node's receivers apart (index <see cref="Receiver.Node"/>),
    /// besides <see cref="Histogram"/>; null records nothing.
    /// </summary>
    public LatencyHistogram[]? NodeHistograms { get; set; }

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Reads that brought at least one frame of this run.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Stopwatch timestamp of the most recent delivery.</summary>
    public long LastDelivery => Interlocked.Read(ref _lastDelivery);

    /// <summary>
    /// Frames that arrived in one read at <paramref name="now"/>, given by the timestamps they were sent at and, in the
    /// same order, the ones they were due at.
    /// </summary>
    public void Deliver(int node, ReadOnlySpan<long> publishedAt, ReadOnlySpan<long> dueAt, long now)
    {
        Histogram?.Record(publishedAt, now);
        DueHistogram?.Record(dueAt, now);
        NodeHistograms?[node].Record(publishedAt, now);

        // The time first, then the count: whoever sees the count complete also sees the time of the last delivery.
        var seen = Interlocked.Read(ref _lastDelivery);
        while (seen < now)
        {
            var found = Interlocked.CompareExchange(ref _lastDelivery, now, seen);
            if (found == seen)
            {
                break;
            }

            seen = found;
        }

        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _delivered, publishedAt.Length);
    }

    public void Gap() => Interlocked.Increment(ref _gaps);
}

/// <summary>
/// One subscriber: a receive loop that counts complete frames and checks that sequence numbers have no gaps. Frames are
/// collected with <see cref="OnFrame(long, long, long)"/> and handed to the run with <see cref="EndRead"/> once per read.
/// </summary>
internal abstract class Receiver : IAsyncDisposable
{
    private long _last; // only the receive loop reads and writes it
    private long[] _publishedAt = new long[16];
    private long[] _dueAt = new long[16]; // grown with _publishedAt, so the frame at an index is the same in both
    private int _pending;

    protected Receiver(RunState state)
    {
        State = state;
        _last = state.SeqBase;
    }

    protected RunState State { get; }

    /// <summary>The node this receiver subscribes on: 0, the one events are published on, or 1, the second (<c>load --server2</c>).</summary>
    public int Node { get; set; }

    /// <summary>Connects and subscribes; the receive loop then runs until <see cref="DisposeAsync"/> or the token.</summary>
    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    protected void OnFrame(long seq, long timestamp, long due)
    {
        if (seq <= State.SeqBase)
        {
            return;
        }

        if (seq != _last + 1)
        {
            State.Gap();
        }

        _last = seq;
        if (_pending == _publishedAt.Length)
        {
            Array.Resize(ref _publishedAt, _publishedAt.Length * 2);
            Array.Resize(ref _dueAt, _publishedAt.Length);
        }

        _publishedAt[_pending] = timestamp;
        _dueAt[_pending++] = due;
    }

    protected void OnFrame(ReadOnlySpan<byte> frame)
    {
        if (FrameScanner.TryRead(frame, out var seq, out var ts, out var due) && !IsLateReset(frame, seq))
        {
            OnFrame(seq, ts, due);
        }
    }

    // A reset (Rocket's patch replacing the whole document, "path":"") carries the records, so the `seq` of record r1,
    // but it is not an event. At connect it holds an older run's `seq` and is ignored anyway; one written after this
    // run's first events (a subscriber the server counted before its reset went out) would read as a duplicate. Only a
    // frame out of sequence is looked at, so the frames of a normal run cost nothing more.
    private bool IsLateReset(ReadOnlySpan<byte> frame, long seq) =>
        seq > State.SeqBase && seq != _last + 1 && frame.IndexOf("\"path\":\"\""u8) >= 0;

    protected void OnFrame(ReadOnlySpan<char> frame)
    {
        if (FrameScanner.TryRead(frame, out var seq, out var ts, out var due))
        {
            OnFrame(seq, ts, due);
        }
    }

    /// <summary>Delivers the frames collected since the last call, as received at <paramref name="now"/> (when their read completed).</summary>
    protected void EndRead(long now)
    {
        if (_pending > 0)
        {
            State.Deliver(Node, _publishedAt.AsSpan(0, _pending), _dueAt.AsSpan(0, _pending), now);
            _pending = 0;
        }
    }

    /// <summary>The start of a frame a read cut, carried to the next read: more than this is not a frame of this benchmark.</summary>
    protected const int MaxCarry = 16 * 1024;

    [ThreadStatic]
    private static byte[]? t_scratch;

    /// <summary>
    /// The buffer reads go into on this thread, shared by every receiver the thread serves, so it stays in cache (see
    /// <see cref="HttpSocketStream"/>). Use it only between a wake-up and the next await.
    /// </summary>
    protected static byte[] Scratch => t_scratch ??= new byte[64 * 1024];

    /// <summary>Reads the body and hands on each SSE frame (up to a blank line).</summary>
    protected async Task ReadSseFramesAsync(HttpSocketStream body, CancellationToken cancellationToken)
    {
        var carry = new byte[512];
        var carried = 0;
        try
        {
            while (!body.Ended)
            {
                await body.WaitAsync(cancellationToken);
                var filled = Refill(body, carry.AsSpan(0, carried), out var scratch);
                if (filled == 0)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                var consumed = 0;
                while (true)
                {
                    var end = scratch.AsSpan(consumed, filled - consumed).IndexOf("\n\n"u8);
                    if (end < 0)
                    {
                        break;
                    }

                    OnFrame(scratch.AsSpan(consumed, end));
                    consumed += end + 2;
                }

                EndRead(now);
                carried = filled - consumed;
                Carry(scratch.AsSpan(consumed, carried), ref carry);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Cancellation or the end of the run.
        }
    }

    /// <summary>
    /// After a wake-up: puts <paramref name="carried"/> (the start of a frame the last read cut) at the start of this
    /// thread's buffer and reads what has arrived after it. Returns how many bytes <paramref name="scratch"/> now holds, or
    /// 0 when the read brought nothing new.
    /// </summary>
    protected static int Refill(HttpSocketStream body, ReadOnlySpan<byte> carried, out byte[] scratch)
    {
        scratch = Scratch;
        carried.CopyTo(scratch);
        var read = body.Read(scratch.AsSpan(carried.Length));
        return read == 0 ? 0 : carried.Length + read;
    }

    /// <summary>Keeps <paramref name="cut"/>, the start of a frame, in the receiver's own <paramref name="carry"/>.</summary>
    protected static void Carry(ReadOnlySpan<byte> cut, ref byte[] carry)
    {
        if (cut.Length > MaxCarry)
        {
            throw new InvalidDataException($"A frame is over {MaxCarry} bytes.");
        }

        if (cut.Length > carry.Length)
        {
            carry = new byte[MaxCarry];
        }

        cut.CopyTo(carry);
    }
}

/// <summary>Rocket's SSE stream or the naive SSE baseline, read over a plain socket (<see cref="HttpSocketResponse"/>).</summary>
internal sealed class SseReceiver(RunState state, Uri url, string extraHeaders = "") : Receiver(state)
{
    private HttpSocketStream? _body;
    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var response = await HttpSocketResponse.GetAsync(url, "Accept: text/event-stream\r\n" + extraHeaders, cancellationToken);
        _body = response.Body;
        if (response.Status != 200
            || !response.Headers.TryGetValue("Content-Type", out var type) || !type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The stream answered {response.Status}, not 200 with text/event-stream.");
        }

        _loop = ReadSseFramesAsync(_body, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _body?.Dispose();
        if (_loop is not null)
        {
            await _loop;
        }
    }
}

/// <summary>The raw-socket floor: a TCP connection that receives pre-framed SSE bytes.</summary>
internal sealed class RawReceiver(RunState state, IPEndPoint endPoint) : Receiver(state)
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await _socket.ConnectAsync(endPoint, cancellationToken);
        _loop = ReadSseFramesAsync(new HttpSocketStream(_socket, [], chunked: false), cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (_loop is not null)
        {
            await _loop;
        }
    }
}

/// <summary>
/// Rocket's WebSocket transport, subprotocol <c>rocket.jsonpatch.v1</c>: one text message per event. The opening
/// handshake is written by hand over a plain socket (<see cref="HttpSocketResponse"/>), and the frames are read straight
/// from the connection, a read's worth at a time, like the SSE receivers read theirs.
/// </summary>
/// <remarks>
/// ClientWebSocket hands over one message per <c>ReceiveAsync</c>: at 1,000 subscribers that cost the load process about
/// 2.1 µs per delivery, three times the SSE receivers' cost, and as both processes share the two cores it capped what
/// the run could show of the server. This reader checks what it relies on (the status, the accept key, the subprotocol,
/// unmasked server frames, control frames within their limits), answers pings, and reassembles fragmented messages, so
/// a server that breaks the protocol fails the run instead of being miscounted.
/// </remarks>
internal sealed class WebSocketReceiver(RunState state, Uri url) : Receiver(state)
{
    private const string Protocol = "rocket.jsonpatch.v1";
    private const byte Continuation = 0x0;
    private const byte Text = 0x1;
    private const byte Close = 0x8;
    private const byte Ping = 0x9;
    private const byte Pong = 0xA;

    private HttpSocketStream? _connection;
    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var response = await HttpSocketResponse.GetAsync(
            url,
            $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {Protocol}\r\n",
            cancellationToken);
        _connection = response.Body;
        if (response.Status != 101)
        {
            throw new InvalidDataException($"The WebSocket handshake got {response.Status}, not 101.");
        }

        // RFC 6455 section 4.2.2: the base64 of the SHA-1 of the key and the protocol's GUID.
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 here; it proves the server read the handshake, it protects nothing.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        if (!response.Headers.TryGetValue("Sec-WebSocket-Accept", out var accepted) || accepted != accept
            || !response.Headers.TryGetValue("Sec-WebSocket-Protocol", out var protocol) || protocol != Protocol)
        {
            throw new InvalidDataException("The WebSocket handshake's accept key or subprotocol is wrong.");
        }

        // No cursor: ask for the reset now instead of waiting out the resume window.
        await SendAsync(_connection, Text, "{\"type\":\"resume\"}"u8.ToArray(), cancellationToken);
        _loop = LoopAsync(_connection, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    // A client's frame is always masked (RFC 6455 section 5.3); the payloads sent here fit the 7-bit length.
    private static async Task SendAsync(HttpSocketStream connection, byte opcode, byte[] payload, CancellationToken cancellationToken)
    {
        if (payload.Length > 125)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "Only short frames are sent.");
        }

        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        RandomNumberGenerator.Fill(frame.AsSpan(2, 4));
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ frame[2 + (i & 3)]);
        }

        await connection.WriteAsync(frame, cancellationToken);
    }

    // The header of the frame at the start of `bytes`, when all of the frame is there.
    private static bool TryReadFrame(ReadOnlySpan<byte> bytes, out bool fin, out byte opcode, out int headerLength, out int payloadLength)
    {
        fin = false;
        opcode = 0;
        headerLength = 2;
        payloadLength = 0;
        if (bytes.Length < 2)
        {
            return false;
        }

        fin = (bytes[0] & 0x80) != 0;
        opcode = (byte)(bytes[0] & 0x0F);
        if ((bytes[0] & 0x70) != 0 || (bytes[1] & 0x80) != 0)
        {
            throw new InvalidDataException("A server frame had reserved bits set or was masked.");
        }

        long length = bytes[1] & 0x7F;
        if (length == 126)
        {
            headerLength = 4;
            if (bytes.Length < headerLength)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        }
        else if (length == 127)
        {
            headerLength = 10;
            if (bytes.Length < headerLength)
            {
                return false;
            }

            length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
        }

        if (length > 16 * 1024 * 1024 || (opcode >= Close && (length > 125 || !fin)))
        {
            throw new InvalidDataException($"A server frame (opcode {opcode}) had a length of {length}.");
        }

        payloadLength = (int)length;
        return bytes.Length >= headerLength + payloadLength;
    }

    private async Task LoopAsync(HttpSocketStream connection, CancellationToken cancellationToken)
    {
        var carry = new byte[512];
        var carried = 0;
        var message = new ArrayBufferWriter<byte>(); // the fragments of a message sent in several frames (rare)
        var inMessage = false;
        try
        {
            while (!connection.Ended)
            {
                await connection.WaitAsync(cancellationToken);
                var filled = Refill(connection, carry.AsSpan(0, carried), out var scratch);
                if (filled == 0)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                var consumed = 0;
                byte[]? ping = null;
                while (TryReadFrame(scratch.AsSpan(consumed, filled - consumed), out var fin, out var opcode, out var header, out var length))
                {
                    var payload = scratch.AsSpan(consumed + header, length);
                    consumed += header + length;
                    switch (opcode)
                    {
                        case Text when fin && !inMessage:
                            OnFrame(payload);
                            break;
                        case Text or Continuation:
                            if ((opcode == Text) == inMessage)
                            {
                                throw new InvalidDataException("A server's continuation frame came outside a message, or a text frame inside one.");
                            }

                            inMessage = !fin;
                            message.Write(payload);
                            if (fin)
                            {
                                OnFrame(message.WrittenSpan);
                                message.ResetWrittenCount();
                            }

                            break;
                        case Close:
                            EndRead(now);
                            return;
                        case Ping:
                            ping = payload.ToArray();
                            break;
                        case Pong:
                            break;
                        default:
                            throw new InvalidDataException($"A server frame had opcode {opcode}; this subprotocol sends text only.");
                    }
                }

                EndRead(now);
                carried = filled - consumed;
                Carry(scratch.AsSpan(consumed, carried), ref carry);
                if (ping is not null)
                {
                    await SendAsync(connection, Pong, ping, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Cancellation or the end of the run.
        }
    }
}

/// <summary>
/// SignalR over WebSockets (negotiation skipped): Rocket's hub (<c>Subscribe</c>, then <c>patch</c> messages, in the JSON or
/// the MessagePack protocol) or the plain broadcast (JSON).
/// </summary>
internal sealed class SignalRReceiver(RunState state, Uri url, bool rocket, bool messagePack = false) : Receiver(state)
{
    private readonly HubConnection _connection = Build(url, messagePack);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!rocket)
        {
            _connection.On<string>("event", s =>
            {
                OnFrame(s.AsSpan());
                EndRead(Stopwatch.GetTimestamp());
            });
        }
        else if (messagePack)
        {
            // The patch is a string holding the JSON text; scanned as the plain receivers scan theirs. A reset is not an event.
            _connection.On<string, string, bool, string>("patch", (_, _, reset, patch) =>
            {
                if (!reset)
                {
                    OnFrame(patch.AsSpan());
                    EndRead(Stopwatch.GetTimestamp());
                }
            });
        }
        else
        {
            _connection.On<string, string, bool, SequencedItem>("patch", (_, _, reset, item) =>
            {
                if (!reset && item.Seq >= 0)
                {
                    OnFrame(item.Seq, item.Timestamp, item.Due);
                    EndRead(Stopwatch.GetTimestamp());
                }
            });
        }

        await _connection.StartAsync(cancellationToken);
        if (rocket)
        {
            await _connection.InvokeAsync("Subscribe", Payload.Collection, null, cancellationToken);
        }
    }

    public override ValueTask DisposeAsync() => _connection.DisposeAsync();

    private static HubConnection Build(Uri url, bool messagePack)
    {
        var builder = new HubConnectionBuilder().WithUrl(url, HttpTransportType.WebSockets, static o => o.SkipNegotiation = true);
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        return builder.Build();
    }
}

/// <summary>
/// What a SignalR receiver needs of the patch of one of Rocket's hub messages (JSON protocol): the event's <c>seq</c>, <c>ts</c> and <c>due</c> (-1 when absent),
/// read by walking the item's tokens as the protocol hands them over, without building a document or copying the patch
/// into a string. The plain SignalR receivers scan the string argument they are given in the same spirit.
/// </summary>
[JsonConverter(typeof(SequencedItemConverter))]
internal readonly record struct SequencedItem(long Seq, long Timestamp, long Due);

internal sealed class SequencedItemConverter : JsonConverter<SequencedItem>
{
    public override SequencedItem Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        long seq = -1;
        long timestamp = -1;
        long due = -1;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("seq"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
            {
                seq = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("ts"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
            {
                timestamp = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("due"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
            {
                due = reader.GetInt64();
            }
        }

        return new SequencedItem(seq, timestamp, due);
    }

    public override void Write(Utf8JsonWriter writer, SequencedItem value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Only read.");
}
