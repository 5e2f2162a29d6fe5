using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.IO;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Rocket.Diagnostics;
using Rocket.Live;
using Rocket.Transports;
using Rocket.Transports.WebSockets;
using Rocket.Transports.Sse;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// Steady-state delivery through the real live core and a real transport into in-memory pipes, one per subscriber, each
/// drained by its own reader loop (what Kestrel's socket sender is to a response pipe): no Kestrel, no sockets, no load
/// harness. <c>sse</c> is <see cref="SseTransport"/> over the pipe's writer, as the SSE endpoint uses it;
/// <c>websocket</c> is <see cref="WebSocketTransport"/> writing pre-framed frames to the connection stream of a server
/// <see cref="WebSocket"/>, as the endpoint's own HTTP/1.1 upgrade uses it. The goal: at most 1 allocated byte per
/// delivery.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="PublishWithoutSubscribers"/>, the anchor: the same change with nobody listening, so the per-event
/// cost (the change, the encoded patch, the event, its SSE frame) that every other row contains once per operation.</item>
/// <item><see cref="WriteFramesDirectly"/>, the floor: the pre-framed bytes written to every pipe and flushed, with the
/// same readers, and no live core at all.</item>
/// <item><see cref="Deliver"/>: one event, waited for until every reader has it (every subscriber wakes per event, as
/// at a low rate).</item>
/// <item><see cref="DeliverBurst"/>: 16 events published back to back, then waited for (subscribers coalesce what is
/// pending, as under a flood); figures are per event.</item>
/// </list>
/// Allocated bytes per delivery = (row - anchor) / subscribers.
/// </remarks>
[MemoryDiagnoser]
public class DeliveryBenchmarks
{
    internal const int BurstEvents = 16;

    // Readers count units, not bytes, since the cursor's digits grow: an SSE frame has exactly four LFs (event, id, data,
    // blank line); a WebSocket frame is one unit, found by reading the frame headers.
    private const int SseUnitsPerFrame = 4;

    private static readonly byte[] Value = """{"text":"hello, world","author":"ada","n":42}"""u8.ToArray();

    private readonly ManualResetEventSlim _allReceived = new();
    private readonly BlockPool _pool = new();
    private LiveCollection _collection = null!;
    private LiveCollection _empty = null!;
    private Subscription[] _subscriptions = [];
    private WebSocket[] _sockets = [];
    private Pipe[] _pipes = [];
    private Task[] _readers = [];
    private byte[] _frame = [];
    private ArrayBufferWriter<byte>? _capture;
    private long _newlines;
    private long _target;

    [Params(100, 1_000)]
    public int Subscribers { get; set; }

    [Params("sse", "websocket")]
    public string Transport { get; set; } = "sse";

    /// <summary>
    /// <c>off</c>: no meter. <c>listening</c>: the collection has Rocket's instruments and a <see cref="MeterListener"/>
    /// takes every measurement of every one of them (summing them, as an exporter's aggregation would), so the rows
    /// side by side give what telemetry costs per delivery.
    /// </summary>
    [Params("off", "listening")]
    public string Telemetry { get; set; } = "off";

    private MeterListener? _listener;
    private long _measuredLong;
    private double _measuredDouble;

    private int UnitsPerFrame => Transport == "sse" ? SseUnitsPerFrame : 1;

    [GlobalSetup]
    public void Setup()
    {
        // No heartbeats: one landing between operations would be an extra line in the count.
        var options = new LiveCollectionOptions { HeartbeatInterval = TimeSpan.Zero };
        _collection = new LiveCollection("messages", options);
        if (Telemetry == "listening")
        {
            _collection.Metrics = new RocketMetrics(new PlainMeterFactory());
            _listener = new MeterListener
            {
                InstrumentPublished = static (instrument, listener) =>
                {
                    if (instrument.Meter.Name == RocketTelemetry.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument, listener);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _measuredLong, value));
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _measuredDouble += value);
            _listener.Start();
        }

        _collection.Create("1", Value);
        _empty = new LiveCollection("messages", options);
        _empty.Create("1", Value);

        _pipes = new Pipe[Subscribers];
        _readers = new Task[Subscribers];
        _subscriptions = new Subscription[Subscribers];
        _sockets = Transport == "sse" ? [] : new WebSocket[Subscribers];
        for (var i = 0; i < Subscribers; i++)
        {
            // Never pause the writer: the readers keep up, and a paused flush would measure the pipe, not Rocket.
            _pipes[i] = new Pipe(new PipeOptions(_pool, pauseWriterThreshold: 0, useSynchronizationContext: false));
            _readers[i] = ReadAsync(_pipes[i].Reader, i == 0);
            _subscriptions[i] = _collection.Subscribe(CreateTransport(i), _collection.Cursor.ToString());
        }

        // Check the output: subscriber 0 receives exactly the frame of the event, nothing more.
        _capture = new ArrayBufferWriter<byte>();
        Deliver();
        var cursor = _collection.Cursor;
        var patch = $"[{{\"op\":\"replace\",\"path\":\"/messages/1\",\"value\":{Encoding.UTF8.GetString(Value)}}}]";
        var expected = Transport == "sse" ? Encoding.UTF8.GetBytes($"event: patch\nid: {cursor}\ndata: {patch}\n\n") : ExpectedWebSocketFrame(cursor, patch);
        var actual = _capture.WrittenSpan.ToArray();
        _capture = null;
        if (!actual.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException($"Wrong {Transport} output: {Encoding.UTF8.GetString(actual)}");
        }

        if (_collection.SubscriberCount != Subscribers)
        {
            throw new InvalidOperationException("A subscriber was dropped during setup.");
        }

        _frame = expected;
        WriteFramesDirectly();
        DeliverBurst();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        foreach (var pipe in _pipes)
        {
            pipe.Writer.Complete();
        }

        Task.WaitAll(_readers);

        // The sent totals are observable: an exporter reads them when it collects, as this does once at the end.
        _listener?.RecordObservableInstruments();
        _listener?.Dispose();
        if (Telemetry == "listening" && Interlocked.Read(ref _measuredLong) == 0)
        {
            throw new InvalidOperationException($"The listener took no measurement ({_measuredDouble}).");
        }

        _collection.Dispose();
        _empty.Dispose();
        _allReceived.Dispose();
        _pool.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Cursor PublishWithoutSubscribers() => _empty.Update("1", Value);

    [Benchmark]
    public void WriteFramesDirectly()
    {
        Expect(1);
        foreach (var pipe in _pipes)
        {
            pipe.Writer.Write(_frame);
            var flush = pipe.Writer.FlushAsync();
            if (!flush.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("A pipe that never pauses did not flush at once.");
            }
        }

        Wait();
    }

    [Benchmark]
    public void Deliver()
    {
        Expect(1);
        _collection.Update("1", Value);
        Wait();
    }

    [Benchmark(OperationsPerInvoke = BurstEvents)]
    public void DeliverBurst()
    {
        Expect(BurstEvents);
        for (var i = 0; i < BurstEvents; i++)
        {
            _collection.Update("1", Value);
        }

        Wait();
    }

    private void Expect(int events)
    {
        _allReceived.Reset();
        Interlocked.Exchange(ref _newlines, 0);
        Volatile.Write(ref _target, (long)events * Subscribers * UnitsPerFrame);
    }

    private void Wait()
    {
        if (!_allReceived.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"Only {Interlocked.Read(ref _newlines) / UnitsPerFrame} frames of {_target / UnitsPerFrame} arrived.");
        }
    }

    private ITransport CreateTransport(int subscriber)
    {
        if (Transport == "sse")
        {
            return new SseTransport(_pipes[subscriber].Writer);
        }

        // What the endpoint builds after its own upgrade: the WebSocket over the connection stream, the transport writing
        // pre-framed frames to that stream. No keep-alive: a ping landing between operations would be an extra frame.
        var connection = new WebSocketConnectionStream(new PipeWriterConnection(_pipes[subscriber].Writer));
        var socket = WebSocket.CreateFromStream(connection, new WebSocketCreationOptions { IsServer = true, SubProtocol = RocketWebSocketProtocol.Subprotocol, KeepAliveInterval = TimeSpan.Zero });
        connection.Socket = socket;
        _sockets[subscriber] = socket;
        return new WebSocketTransport(socket, connection, writeTimeout: null);
    }

    // RFC 6455 section 5.2: FIN + text, an unmasked length (the message is over 125 bytes and under 64 KiB), the message.
    private static byte[] ExpectedWebSocketFrame(Cursor cursor, string patch)
    {
        var message = Encoding.UTF8.GetBytes($"{{\"type\":\"patch\",\"id\":\"{cursor}\",\"patch\":{patch}}}");
        if (message.Length is < 126 or > 65535)
        {
            throw new InvalidOperationException($"The benchmark's message is {message.Length} bytes; its expected header assumes 126 to 65,535.");
        }

        return [0x81, 126, (byte)(message.Length >> 8), (byte)message.Length, .. message];
    }

    private async Task ReadAsync(PipeReader reader, bool capture)
    {
        var frames = new WebSocketFrameCounter();
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            long newlines = 0;
            foreach (var segment in buffer)
            {
                newlines += Transport == "sse" ? segment.Span.Count((byte)'\n') : frames.Count(segment.Span);
                if (capture && _capture is { } into)
                {
                    into.Write(segment.Span);
                }
            }

            reader.AdvanceTo(buffer.End);
            if (newlines > 0 && Interlocked.Add(ref _newlines, newlines) == Volatile.Read(ref _target))
            {
                _allReceived.Set();
            }

            if (result.IsCompleted)
            {
                await reader.CompleteAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private sealed class PlainMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }

    /// <summary>Counts whole unmasked WebSocket frames in a byte stream cut anywhere (payloads under 64 KiB).</summary>
    private sealed class WebSocketFrameCounter
    {
        private readonly byte[] _header = new byte[4];
        private int _headerRead;
        private int _payloadLeft;

        public int Count(ReadOnlySpan<byte> bytes)
        {
            var frames = 0;
            while (!bytes.IsEmpty)
            {
                if (_payloadLeft > 0)
                {
                    var skip = Math.Min(_payloadLeft, bytes.Length);
                    bytes = bytes[skip..];
                    if ((_payloadLeft -= skip) == 0)
                    {
                        frames++;
                    }

                    continue;
                }

                _header[_headerRead++] = bytes[0];
                bytes = bytes[1..];
                var length = _headerRead >= 2 ? _header[1] & 0x7F : -1;
                if (length is >= 0 and < 126)
                {
                    _payloadLeft = length;
                }
                else if (length == 126 && _headerRead == 4)
                {
                    _payloadLeft = (_header[2] << 8) | _header[3];
                }
                else if (length == 127)
                {
                    throw new InvalidOperationException("A frame of 64 KiB or more: not expected here.");
                }
                else
                {
                    continue;
                }

                _headerRead = 0;
                if (_payloadLeft == 0)
                {
                    frames++;
                }
            }

            return frames;
        }
    }

    /// <summary>The server side of a connection as a stream: writes go to the pipe (and are flushed), nothing is ever read.</summary>
    private sealed class PipeWriterConnection(PipeWriter writer) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var flush = writer.WriteAsync(buffer, cancellationToken);
            return flush.IsCompletedSuccessfully ? default : new ValueTask(flush.AsTask());
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        // The benchmark never receives: the WebSocket reads only when asked to.
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// Blocks that go back to the pool and come out again, never dropped: what Kestrel's pinned block pool does for a
    /// response pipe. The pipes' default (<c>ArrayPool&lt;byte&gt;.Shared</c>) keeps only a few arrays per core, so
    /// with hundreds of pipes in flight it allocates new 4 KiB arrays all the time, and the benchmark would measure that.
    /// </summary>
    private sealed class BlockPool : MemoryPool<byte>
    {
        private const int BlockSize = 4096;

        private readonly ConcurrentQueue<Block> _free = new();

        public override int MaxBufferSize => BlockSize;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
            return _free.TryDequeue(out var block) ? block : new Block(this);
        }

        protected override void Dispose(bool disposing) => _free.Clear();

        private sealed class Block(BlockPool owner) : IMemoryOwner<byte>
        {
            private readonly byte[] _array = new byte[BlockSize];

            public Memory<byte> Memory => _array;

            public void Dispose() => owner._free.Enqueue(this);
        }
    }
}
