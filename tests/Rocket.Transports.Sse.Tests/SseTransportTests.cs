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

    // Hands out buffers of a fixed size, each continuing where the last Advance left off, and records what was written.
    private sealed class FixedBufferWriter(int bufferSize) : PipeWriter
    {
        private byte[] _buffer = [];
        private bool _open;

        public List<byte> Written { get; } = [];

        public int SpansRequested { get; private set; }

        public int Flushes { get; private set; }

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
            _open = false;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
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
