using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Rocket.Live;
using Rocket.Transports.Sse;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// Steady-state delivery through the real live core and the real <see cref="SseTransport"/> into in-memory pipes, one
/// per subscriber, each drained by its own reader loop (what Kestrel's socket sender is to a response pipe): no Kestrel,
/// no sockets, no load harness. The issue's target: at most 1 allocated byte per delivery.
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
public class SseDeliveryBenchmarks
{
    private const int BurstEvents = 16;

    // Each SSE frame has exactly four LFs (event, id, data, blank line): readers count LFs, not bytes, since the cursor's
    // digits grow.
    private const int NewlinesPerFrame = 4;

    private static readonly byte[] Value = """{"text":"hello, world","author":"ada","n":42}"""u8.ToArray();

    private readonly ManualResetEventSlim _allReceived = new();
    private readonly BlockPool _pool = new();
    private LiveCollection _collection = null!;
    private LiveCollection _empty = null!;
    private Subscription[] _subscriptions = [];
    private Pipe[] _pipes = [];
    private Task[] _readers = [];
    private byte[] _frame = [];
    private ArrayBufferWriter<byte>? _capture;
    private long _newlines;
    private long _target;

    [Params(100, 1_000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // No heartbeats: one landing between operations would be an extra line in the count.
        var options = new LiveCollectionOptions { HeartbeatInterval = TimeSpan.Zero };
        _collection = new LiveCollection("messages", options);
        _collection.Create("1", Value);
        _empty = new LiveCollection("messages", options);
        _empty.Create("1", Value);

        _pipes = new Pipe[Subscribers];
        _readers = new Task[Subscribers];
        _subscriptions = new Subscription[Subscribers];
        for (var i = 0; i < Subscribers; i++)
        {
            // Never pause the writer: the readers keep up, and a paused flush would measure the pipe, not Rocket.
            _pipes[i] = new Pipe(new PipeOptions(_pool, pauseWriterThreshold: 0, useSynchronizationContext: false));
            _readers[i] = ReadAsync(_pipes[i].Reader, i == 0);
            _subscriptions[i] = _collection.Subscribe(new SseTransport(_pipes[i].Writer), _collection.Cursor.ToString());
        }

        // Check the output: subscriber 0 receives exactly the SSE frame of the event, nothing more.
        _capture = new ArrayBufferWriter<byte>();
        Deliver();
        var cursor = _collection.Cursor;
        var expected = $"event: patch\nid: {cursor}\ndata: [{{\"op\":\"replace\",\"path\":\"/messages/1\",\"value\":{Encoding.UTF8.GetString(Value)}}}]\n\n";
        var actual = Encoding.UTF8.GetString(_capture.WrittenSpan);
        _capture = null;
        if (actual != expected)
        {
            throw new InvalidOperationException($"Wrong SSE output: {actual}");
        }

        if (_collection.SubscriberCount != Subscribers)
        {
            throw new InvalidOperationException("A subscriber was dropped during setup.");
        }

        _frame = Encoding.UTF8.GetBytes(expected);
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

        foreach (var pipe in _pipes)
        {
            pipe.Writer.Complete();
        }

        Task.WaitAll(_readers);
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
        Volatile.Write(ref _target, (long)events * Subscribers * NewlinesPerFrame);
    }

    private void Wait()
    {
        if (!_allReceived.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"Only {Interlocked.Read(ref _newlines) / NewlinesPerFrame} frames of {_target / NewlinesPerFrame} arrived.");
        }
    }

    private async Task ReadAsync(PipeReader reader, bool capture)
    {
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            long newlines = 0;
            foreach (var segment in buffer)
            {
                newlines += segment.Span.Count((byte)'\n');
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
