using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Client;

// SseParser skips comments, so the SSE heartbeat (":\n") never reaches the client as an item. Noting every read here
// is how the idle timeout sees heartbeats.
internal sealed class ActivityStream : Stream
{
    private readonly Stream _inner;
    private long _lastActivity = Stopwatch.GetTimestamp();

    public ActivityStream(Stream inner) => _inner = inner;

    public long LastActivity => Volatile.Read(ref _lastActivity);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Note(_inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Note(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Note(int read)
    {
        if (read > 0)
        {
            Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
        }

        return read;
    }
}
