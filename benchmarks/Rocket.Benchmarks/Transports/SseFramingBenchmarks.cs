using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Net.ServerSentEvents;
using System.Text;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Rocket.Live;
using Rocket.Transports.Sse;

namespace Rocket.Benchmarks.Transports;

/// <summary>
/// Framing one event for N SSE subscribers. Rocket frames it once (<see cref="SseEventFramer"/>) and hands every
/// subscriber the same bytes; the anchor formats it per subscriber with <see cref="SseFormatter"/>
/// (System.Net.ServerSentEvents), as an endpoint that keeps one SseFormatter stream per connection does. Both write
/// into an in-memory sink per subscriber, so what is measured is framing and copying, not sockets.
/// </summary>
[MemoryDiagnoser]
public class SseFramingBenchmarks
{
    // About 200 bytes of JSON Patch, the size issue #7 uses for fan-out.
    private static readonly byte[] PatchUtf8 =
        """[{"op":"replace","path":"/messages/01a21684cb5a7486a555a09e03c1b5b6","value":{"id":"01a21684cb5a7486a555a09e03c1b5b6","author":"ann","text":"hello, edited","likes":3,"tags":["news"]}}]"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _frame = new(512);
    private readonly MemoryStream _sink = new(1024);
    private LiveEvent _event = null!;
    private SseItem<string> _item;
    private string _patchText = null!;

    [Params(1, 100, 1000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _event = new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), PatchUtf8, isReset: false);
        _patchText = Encoding.UTF8.GetString(PatchUtf8);
        _item = new SseItem<string>(_patchText, "patch") { EventId = "7f3a09c1.42" };

        var rocket = RocketFrameOnce();
        var formatter = SseFormatterPerSubscriber().GetAwaiter().GetResult();
        var expected = "event: patch\nid: 7f3a09c1.42\ndata: " + _patchText + "\n\n";
        if (Encoding.UTF8.GetString(_frame.WrittenSpan) != expected)
        {
            throw new InvalidOperationException($"Rocket framed {Encoding.UTF8.GetString(_frame.WrittenSpan)}, expected {expected}.");
        }

        // SseFormatter writes the same fields (it orders them event, id, data or data-first depending on version); the
        // parsed event must be the same, and the byte counts per subscriber must match.
        var parsed = SseParser.Create(new MemoryStream(_sink.GetBuffer(), 0, (int)_sink.Length)).Enumerate();
        foreach (var item in parsed)
        {
            if (item.Data != _patchText || item.EventType != "patch" || item.EventId != "7f3a09c1.42")
            {
                throw new InvalidOperationException("SseFormatter's event differs from Rocket's.");
            }
        }

        if (rocket != (long)expected.Length * Subscribers || formatter != rocket)
        {
            throw new InvalidOperationException($"Byte counts differ: Rocket {rocket}, SseFormatter {formatter}, expected {(long)expected.Length * Subscribers}.");
        }
    }

    [Benchmark(Baseline = true)]
    public async Task<long> SseFormatterPerSubscriber()
    {
        long total = 0;
        for (var i = 0; i < Subscribers; i++)
        {
            _sink.Position = 0;
            _sink.SetLength(0);
            await SseFormatter.WriteAsync(One(_item), _sink).ConfigureAwait(false);
            total += _sink.Length;
        }

        return total;
    }

    [Benchmark]
    public long RocketFrameOnce()
    {
        _frame.ResetWrittenCount();
        SseEventFramer.Instance.Frame(_event, _frame);
        var frame = _frame.WrittenSpan;
        long total = 0;
        for (var i = 0; i < Subscribers; i++)
        {
            _sink.Position = 0;
            _sink.SetLength(0);
            _sink.Write(frame);
            total += _sink.Length;
        }

        return total;
    }

#pragma warning disable CS1998 // an async iterator that yields one item, as a per-connection channel would
    private static async IAsyncEnumerable<SseItem<string>> One(SseItem<string> item)
    {
        yield return item;
    }
#pragma warning restore CS1998
}
