using System;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rocket.Transports.Sse;

namespace Rocket.Transports.Sse.Tests;

public class SseTransportTests
{
    [Theory]
    [InlineData(64, new[] { 20, 20, 20, 20, 20, 20, 20, 20, 20, 20 })] // frames that end inside and across buffers
    [InlineData(64, new[] { 64, 64, 64 })]                             // frames that fill a buffer exactly
    [InlineData(16, new[] { 100, 0, 3, 0, 47 })]                         // a frame over several buffers, empty frames
    [InlineData(4096, new[] { 230, 230, 230 })]                         // a batch that fits one buffer
    public async Task WriteManyAsync_WritesTheFramesBackToBack_OneBufferRequestPerBufferFilled(int bufferSize, int[] frameLengths)
    {
        var frames = frameLengths.Select((length, i) => Enumerable.Range(0, length).Select(b => (byte)('a' + ((i + b) % 26))).ToArray()).ToArray();
        var output = new FixedBufferWriter(bufferSize);
        var transport = new SseTransport(output);

        await transport.WriteManyAsync(frames.Select(f => (ReadOnlyMemory<byte>)f).ToArray());

        Assert.Equal(frames.SelectMany(f => f).ToArray(), output.Written.ToArray());
        Assert.Equal(1, output.Flushes);
        var total = frameLengths.Sum();
        var buffersFilled = Math.Max(1, (total + bufferSize - 1) / bufferSize);
        Assert.InRange(output.SpansRequested, buffersFilled, buffersFilled + 1);
    }

    [Theory]
    [InlineData(new[] { 3 * 1024 * 1024 })]                       // one reset of a large collection
    [InlineData(new[] { 100, 200 * 1024, 7, 150 * 1024, 90 * 1024 })] // a backlog of large and small frames
    public async Task LargeWrites_AreCopiedInSlices_FlushedBetweenThem(int[] frameLengths)
    {
        var frames = frameLengths.Select((length, i) => Enumerable.Range(0, length).Select(b => (byte)('a' + ((i + b) % 26))).ToArray()).ToArray();
        var output = new FixedBufferWriter(4096);
        var transport = new SseTransport(output);

        if (frames.Length == 1)
        {
            await transport.WriteAsync(frames[0]);
        }
        else
        {
            await transport.WriteManyAsync(frames.Select(f => (ReadOnlyMemory<byte>)f).ToArray());
        }

        Assert.Equal(frames.SelectMany(f => f).ToArray(), output.Written.ToArray());
        Assert.InRange(output.MostUnflushed, 1, SseTransport.SliceBytes);
        Assert.Equal(0, output.Unflushed);
    }

    [Fact]
    public async Task LargeReset_ThroughAPipeWithBackPressure_NeverHasMoreThanASliceBeyondThePipesThreshold()
    {
        // A pipe that makes its writer wait past 16 KiB unread, as Kestrel's response pipe does past MaxResponseBufferSize.
        const int threshold = 16 * 1024;
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: threshold, resumeWriterThreshold: threshold / 2, useSynchronizationContext: false));
        var frame = Enumerable.Range(0, 4 * 1024 * 1024).Select(b => (byte)('a' + (b % 26))).ToArray();
        var transport = new SseTransport(pipe.Writer);

        var reading = Task.Run(async () =>
        {
            var received = new List<byte>(frame.Length);
            long most = 0;
            while (received.Count < frame.Length)
            {
                var result = await pipe.Reader.ReadAsync();
                most = Math.Max(most, result.Buffer.Length);
                foreach (var segment in result.Buffer)
                {
                    received.AddRange(segment.ToArray());
                }

                pipe.Reader.AdvanceTo(result.Buffer.End);
            }

            return (received, most);
        });

        await transport.WriteAsync(frame);
        var (bytes, mostBuffered) = await reading.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(frame, bytes.ToArray());
        Assert.InRange(mostBuffered, 1, threshold + SseTransport.SliceBytes);
    }

    // Hands out buffers of a fixed size, each continuing where the last Advance left off, and records what was written.
    private sealed class FixedBufferWriter(int bufferSize) : PipeWriter
    {
        private byte[] _buffer = [];
        private bool _open;

        public List<byte> Written { get; } = [];

        public int SpansRequested { get; private set; }

        public int Flushes { get; private set; }

        // Bytes advanced since the last flush, and the most there ever were.
        public int Unflushed { get; private set; }

        public int MostUnflushed { get; private set; }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            Assert.False(_open, "GetSpan was called twice without an Advance in between.");
            SpansRequested++;
            _open = true;
            _buffer = new byte[Math.Max(bufferSize, sizeHint)];
            return _buffer;
        }

        public override void Advance(int bytes)
        {
            Assert.True(_open, "Advance without GetSpan.");
            Assert.InRange(bytes, 0, _buffer.Length);
            Written.AddRange(_buffer.AsSpan(0, bytes).ToArray());
            Unflushed += bytes;
            MostUnflushed = Math.Max(MostUnflushed, Unflushed);
            _open = false;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
            Unflushed = 0;
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }
}
