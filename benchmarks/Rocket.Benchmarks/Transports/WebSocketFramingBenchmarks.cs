using System;
using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Rocket.Live;
using Rocket.Transports;
using Rocket.Transports.Sse;
using Rocket.Transports.WebSockets;

namespace Rocket.Benchmarks.Transports;

/// <summary>
/// Framing one event for WebSocket (a whole RFC 6455 frame, header included) and SSE, to compare: <see cref="FrameOnce"/> is the framer alone into a reused
/// buffer; <see cref="FrameOnceShareWithSubscribers"/> is Rocket's path (frame once into an array, every subscriber is
/// handed the same bytes); <see cref="FramePerSubscriber"/> is the naive path it replaces (frame and copy per
/// subscriber). docs/design.md, decision 6: Rocket's bytes per event must not grow with the subscribers (0 B per
/// subscriber).
/// </summary>
[MemoryDiagnoser]
public class WebSocketFramingBenchmarks
{
    private static readonly byte[] Patch =
        """[{"op":"replace","path":"/messages/1","value":{"id":"1","text":"hello, world","author":"ada","n":42}}]"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private LiveEvent _event = null!;
    private IEventFramer _framer = null!;
    private ReadOnlyMemory<byte>[] _delivered = [];

    [Params("websocket", "sse")]
    public string Transport { get; set; } = "websocket";

    [Params(1, 100)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _event = new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), Patch, isReset: false);
        _framer = Transport == "sse" ? SseEventFramer.Instance : WebSocketEventFramer.Instance;
        _delivered = new ReadOnlyMemory<byte>[Subscribers];

        // Check the output before measuring it. A WebSocket event is a whole RFC 6455 frame: FIN and text (0x81), then the
        // payload's length (146 bytes here: 126 and a 16-bit length; a server never masks), then the message.
        var message = Transport == "sse"
            ? "event: patch\nid: 7f3a09c1.42\ndata: " + Encoding.UTF8.GetString(Patch) + "\n\n"
            : "{\"type\":\"patch\",\"id\":\"7f3a09c1.42\",\"patch\":" + Encoding.UTF8.GetString(Patch) + "}";
        var messageBytes = Encoding.UTF8.GetBytes(message);
        if (Transport != "sse" && messageBytes.Length is < 126 or > ushort.MaxValue)
        {
            throw new InvalidOperationException("The sample message no longer has a 16-bit length; update the expected header.");
        }

        byte[] expected = Transport == "sse"
            ? messageBytes
            : [0x81, 126, (byte)(messageBytes.Length >> 8), (byte)messageBytes.Length, .. messageBytes];
        FrameOnce();
        if (!_buffer.WrittenSpan.SequenceEqual(expected))
        {
            throw new InvalidOperationException($"{Transport} framing is wrong: {Convert.ToHexString(_buffer.WrittenSpan)}");
        }

        FrameOnceShareWithSubscribers();
        foreach (var frame in _delivered)
        {
            if (!frame.Span.SequenceEqual(expected))
            {
                throw new InvalidOperationException("A subscriber was handed the wrong bytes.");
            }
        }
    }

    /// <summary>The framer alone, into a reused buffer: the cost per event and kind, with no allocation.</summary>
    [Benchmark]
    public int FrameOnce()
    {
        _buffer.ResetWrittenCount();
        _framer.Frame(_event, _buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>Rocket's path: one framed array per event (as <c>LiveEvent</c> caches it), the same bytes to every subscriber.</summary>
    [Benchmark(Baseline = true)]
    public int FrameOnceShareWithSubscribers()
    {
        _buffer.ResetWrittenCount();
        _framer.Frame(_event, _buffer);
        ReadOnlyMemory<byte> frame = _buffer.WrittenSpan.ToArray();
        for (var i = 0; i < _delivered.Length; i++)
        {
            _delivered[i] = frame;
        }

        return frame.Length;
    }

    /// <summary>The naive path: every subscriber frames and copies the event itself.</summary>
    [Benchmark]
    public int FramePerSubscriber()
    {
        var total = 0;
        for (var i = 0; i < _delivered.Length; i++)
        {
            _buffer.ResetWrittenCount();
            _framer.Frame(_event, _buffer);
            _delivered[i] = _buffer.WrittenSpan.ToArray();
            total += _delivered[i].Length;
        }

        return total;
    }
}
