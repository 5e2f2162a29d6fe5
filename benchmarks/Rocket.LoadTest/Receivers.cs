using System;
using System.Buffers;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Rocket.LoadTest;

/// <summary>What all receivers of one run share: the sequence base, the counters and the histograms.</summary>
internal sealed class RunState
{
    private long _delivered;
    private long _gaps;
    private long _lastDelivery;

    public RunState(long seqBase) => SeqBase = seqBase;

    /// <summary>Events of this run carry sequence numbers above this; anything else (a reset, an older run) is ignored.</summary>
    public long SeqBase { get; }

    /// <summary>Where latencies go now (the paced phase, then the flood phase); null records nothing.</summary>
    public LatencyHistogram? Histogram { get; set; }

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Stopwatch timestamp of the most recent delivery.</summary>
    public long LastDelivery => Interlocked.Read(ref _lastDelivery);

    public void Deliver(long timestamp, long now)
    {
        Interlocked.Increment(ref _delivered);
        Interlocked.Exchange(ref _lastDelivery, now);
        Histogram?.Record((now - timestamp) * 1_000_000 / Stopwatch.Frequency);
    }

    public void Gap() => Interlocked.Increment(ref _gaps);
}

/// <summary>One subscriber: a receive loop that counts complete frames and checks that sequence numbers have no gaps.</summary>
internal abstract class Receiver : IAsyncDisposable
{
    private long _last;

    protected Receiver(RunState state)
    {
        State = state;
        _last = state.SeqBase;
    }

    protected RunState State { get; }

    public long Last => Interlocked.Read(ref _last);

    /// <summary>Connects and subscribes; the receive loop then runs until <see cref="DisposeAsync"/> or the token.</summary>
    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    protected void OnFrame(long seq, long timestamp)
    {
        if (seq <= State.SeqBase)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        if (seq != _last + 1)
        {
            State.Gap();
        }

        Interlocked.Exchange(ref _last, seq);
        State.Deliver(timestamp, now);
    }

    protected void OnFrame(ReadOnlySpan<byte> frame)
    {
        if (FrameScanner.TryRead(frame, out var seq, out var ts))
        {
            OnFrame(seq, ts);
        }
    }

    protected void OnFrame(ReadOnlySpan<char> frame)
    {
        if (FrameScanner.TryRead(frame, out var seq, out var ts))
        {
            OnFrame(seq, ts);
        }
    }

    /// <summary>Reads a byte stream and hands on each SSE frame (up to a blank line).</summary>
    protected async Task ReadSseFramesAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                var consumed = 0;
                while (true)
                {
                    var end = buffer.AsSpan(consumed, filled - consumed).IndexOf("\n\n"u8);
                    if (end < 0)
                    {
                        break;
                    }

                    OnFrame(buffer.AsSpan(consumed, end));
                    consumed += end + 2;
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            // Cancellation or the end of the run.
        }
    }
}

/// <summary>Rocket's SSE stream or the naive SSE baseline, read with HttpClient.</summary>
internal sealed class SseReceiver(RunState state, HttpClient client, Uri url) : Receiver(state)
{
    private HttpResponseMessage? _response;
    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        _response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        _response.EnsureSuccessStatusCode();
        var stream = await _response.Content.ReadAsStreamAsync(cancellationToken);
        _loop = ReadSseFramesAsync(stream, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _response?.Dispose();
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
        _loop = ReadSseFramesAsync(new NetworkStream(_socket, ownsSocket: false), cancellationToken);
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

/// <summary>Rocket's WebSocket transport, subprotocol <c>rocket.jsonpatch.v1</c>: one text message per event.</summary>
internal sealed class WebSocketReceiver(RunState state, Uri url) : Receiver(state)
{
    private readonly ClientWebSocket _socket = new();
    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _socket.Options.AddSubProtocol("rocket.jsonpatch.v1");
        await _socket.ConnectAsync(url, cancellationToken);
        // No cursor: ask for the reset now instead of waiting out the resume window.
        await _socket.SendAsync("{\"type\":\"resume\"}"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        _loop = LoopAsync(cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                filled += result.Count;
                if (result.EndOfMessage)
                {
                    OnFrame(buffer.AsSpan(0, filled));
                    filled = 0;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }
}

/// <summary>SignalR over WebSockets (negotiation skipped), JSON protocol: Rocket's hub stream or the plain broadcast.</summary>
internal sealed class SignalRReceiver(RunState state, Uri url, bool rocket) : Receiver(state)
{
    private readonly HubConnection _connection = new HubConnectionBuilder()
        .WithUrl(url, HttpTransportType.WebSockets, static o => o.SkipNegotiation = true)
        .Build();

    private Task? _loop;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!rocket)
        {
            _connection.On<string>("event", s => OnFrame(s.AsSpan()));
        }

        await _connection.StartAsync(cancellationToken);
        if (rocket)
        {
            var stream = _connection.StreamAsync<SequencedItem>("Subscribe", Payload.Collection, null, cancellationToken);
            _loop = ReadAsync(stream.GetAsyncEnumerator(cancellationToken));
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    private async Task ReadAsync(System.Collections.Generic.IAsyncEnumerator<SequencedItem> items)
    {
        try
        {
            while (await items.MoveNextAsync())
            {
                if (items.Current.Seq >= 0)
                {
                    OnFrame(items.Current.Seq, items.Current.Timestamp);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HubException or InvalidOperationException or IOException)
        {
        }
        finally
        {
            await items.DisposeAsync();
        }
    }
}

/// <summary>
/// What a SignalR receiver needs of one of Rocket's hub items: the event's <c>seq</c> and <c>ts</c> (-1 when absent),
/// read by walking the item's tokens as the protocol hands them over, without building a document or copying the patch
/// into a string. The plain SignalR receivers scan the string argument they are given in the same spirit.
/// </summary>
[JsonConverter(typeof(SequencedItemConverter))]
internal readonly record struct SequencedItem(long Seq, long Timestamp);

internal sealed class SequencedItemConverter : JsonConverter<SequencedItem>
{
    public override SequencedItem Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        long seq = -1;
        long timestamp = -1;
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
        }

        return new SequencedItem(seq, timestamp);
    }

    public override void Write(Utf8JsonWriter writer, SequencedItem value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Only read.");
}
