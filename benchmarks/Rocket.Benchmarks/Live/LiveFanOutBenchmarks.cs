using System;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// Publishing one change to 1, 100 and 10,000 in-memory subscribers, measured until every subscriber's transport has
/// taken the event. docs/design.md, decision 6: the bytes allocated per event must not grow with the number of
/// subscribers.
/// </summary>
/// <remarks>
/// The anchor (<see cref="NaiveChannels"/>) is the naive per-subscriber design (the load test's baseline-sse without
/// the HTTP): the event encoded with <c>JsonSerializer.SerializeToUtf8Bytes</c> of an operation array, then written
/// to each subscriber's own bounded <see cref="Channel{T}"/> of <c>byte[]</c> (capacity 1,024, one reader task per
/// subscriber that only counts, as Rocket's in-memory transport does). It shares the encoded bytes as Rocket does, so
/// the difference is the queueing, not a copy. Rocket does more per event: it validates and copies the record,
/// stores it, keeps it in the history, and checks each subscriber's queue limits (events and bytes).
/// </remarks>
[MemoryDiagnoser]
public class LiveFanOutBenchmarks
{
    private static readonly byte[] Value = """{"text":"hello, world","author":"ada","n":42}"""u8.ToArray();

    private static readonly BoundedChannelOptions ChannelOptions = new(1_024) { SingleReader = true, SingleWriter = true };

    private readonly ManualResetEventSlim _allReceived = new();
    private Channel<byte[]>[] _channels = [];
    private Task[] _readers = [];
    private JsonDocument _valueDocument = null!;
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

        _valueDocument = JsonDocument.Parse(Value);
        _channels = new Channel<byte[]>[Subscribers];
        _readers = new Task[Subscribers];
        for (var i = 0; i < Subscribers; i++)
        {
            _channels[i] = Channel.CreateBounded<byte[]>(ChannelOptions);
            _readers[i] = ReadAsync(_channels[i].Reader);
        }

        // Check the output: every subscriber gets exactly the encoded event, once, on both paths.
        _expectedPatch = """[{"op":"replace","path":"/messages/1","value":{"text":"hello, world","author":"ada","n":42}}]"""u8.ToArray();
        Publish();
        ThrowUnlessAllReceived(nameof(Publish));
        NaiveChannels();
        ThrowUnlessAllReceived(nameof(NaiveChannels));
        _expectedPatch = null;

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

        foreach (var channel in _channels)
        {
            channel.Writer.Complete();
        }

        Task.WaitAll(_readers);
        _collection.Dispose();
        _valueDocument.Dispose();
        _allReceived.Dispose();
    }

    /// <summary>
    /// The anchor: encode with <c>JsonSerializer</c>, write the bytes to every subscriber's own bounded channel, and
    /// wait until every reader has taken them.
    /// </summary>
    [Benchmark(Baseline = true)]
    public void NaiveChannels()
    {
        Expect(Subscribers);
        var patch = JsonSerializer.SerializeToUtf8Bytes(new[] { new LiveEncodingBenchmarks.Operation("replace", "/messages/1", _valueDocument.RootElement) });
        foreach (var channel in _channels)
        {
            if (!channel.Writer.TryWrite(patch))
            {
                throw new InvalidOperationException("A subscriber's channel is full.");
            }
        }

        Wait();
    }

    /// <summary>Rocket: one update published to every subscriber, measured until each transport has taken it.</summary>
    [Benchmark]
    public void Publish()
    {
        Expect(Subscribers);
        _collection.Update("1", Value);
        Wait();
    }

    private void Wait()
    {
        if (!_allReceived.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"Only {_received} of {_target} subscribers received the event.");
        }
    }

    private void ThrowUnlessAllReceived(string name)
    {
        if (Interlocked.Read(ref _mismatches) != 0 || Interlocked.Read(ref _received) != Subscribers)
        {
            throw new InvalidOperationException($"{name}: fan-out is wrong: {_received} frames for {Subscribers} subscribers, {_mismatches} mismatches.");
        }
    }

    private async Task ReadAsync(ChannelReader<byte[]> reader)
    {
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var patch))
            {
                var expected = _expectedPatch;
                if (expected is not null && !patch.AsSpan().SequenceEqual(expected))
                {
                    Interlocked.Increment(ref _mismatches);
                }

                Count();
            }
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

        Count();
    }

    private void Count()
    {
        if (Interlocked.Increment(ref _received) == _target)
        {
            _allReceived.Set();
        }
    }
}
