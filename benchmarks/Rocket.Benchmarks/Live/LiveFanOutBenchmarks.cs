using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// Publishing one change to 1, 100 and 10,000 in-memory subscribers, measured until every subscriber's transport has
/// taken the event. Decision 6: the bytes allocated per event must not grow with the number of subscribers.
/// </summary>
[MemoryDiagnoser]
public class LiveFanOutBenchmarks
{
    private static readonly byte[] Value = """{"text":"hello, world","author":"ada","n":42}"""u8.ToArray();

    private readonly ManualResetEventSlim _allReceived = new();
    private LiveCollection _collection = null!;
    private Subscription[] _subscriptions = [];
    private byte[]? _expectedPatch;
    private long _received;
    private long _target;
    private long _mismatches;

    [Params(1, 100, 10_000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _collection = new LiveCollection("messages");
        _collection.Create("1", Value);
        _subscriptions = new Subscription[Subscribers];
        Expect(Subscribers);
        for (var i = 0; i < Subscribers; i++)
        {
            // No copy and no recording: the transport only counts, so what is measured is Rocket's fan-out.
            var transport = new InMemoryTransport(recordFrames: false, onFrame: OnFrame);
            _subscriptions[i] = _collection.Subscribe(transport, _collection.Cursor.ToString());
        }

        // Check the output: every subscriber gets exactly the encoded event, once.
        _expectedPatch = """[{"op":"replace","path":"/messages/1","value":{"text":"hello, world","author":"ada","n":42}}]"""u8.ToArray();
        Publish();
        _expectedPatch = null;
        if (Interlocked.Read(ref _mismatches) != 0 || Interlocked.Read(ref _received) != Subscribers)
        {
            throw new InvalidOperationException($"Fan-out is wrong: {_received} frames for {Subscribers} subscribers, {_mismatches} mismatches.");
        }

        if (_collection.SubscriberCount != Subscribers)
        {
            throw new InvalidOperationException("A subscriber was dropped during setup.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        _collection.Dispose();
        _allReceived.Dispose();
    }

    [Benchmark]
    public void Publish()
    {
        Expect(Subscribers);
        _collection.Update("1", Value);
        if (!_allReceived.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"Only {_received} of {_target} subscribers received the event.");
        }
    }

    private void Expect(int count)
    {
        _allReceived.Reset();
        Interlocked.Exchange(ref _received, 0);
        _target = count;
    }

    private void OnFrame(ReadOnlyMemory<byte> frame)
    {
        var expected = _expectedPatch;
        if (expected is not null)
        {
            var span = frame.Span;
            if (!InMemoryEventFramer.TryDecode(span, out _, out var patch) || !patch.SequenceEqual(expected))
            {
                Interlocked.Increment(ref _mismatches);
            }
        }

        if (Interlocked.Increment(ref _received) == _target)
        {
            _allReceived.Set();
        }
    }
}
