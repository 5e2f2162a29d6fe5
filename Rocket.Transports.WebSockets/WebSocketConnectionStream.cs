using System;
using System.IO;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Transports.WebSockets;

/// <summary>
/// The upgraded connection under a server <see cref="WebSocket"/> that the endpoint accepted itself: the WebSocket reads
/// through it and writes its own frames (pongs, pings, close frames) through it, while the transport writes batches of
/// pre-framed events straight to <see cref="Inner"/>. Every write holds <see cref="WriteLock"/>, so frames never
/// interleave.
/// </summary>
/// <remarks>
/// This relies on <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> writing each frame, header
/// and payload, with one <c>WriteAsync</c> (and then a <c>FlushAsync</c>), which System.Net's implementation does: it
/// builds the frame in its send buffer first. Reads need no lock: the WebSocket is their only reader.
/// </remarks>
internal sealed class WebSocketConnectionStream : Stream
{
    private readonly Action? _abort;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="abort"/> aborts the underlying connection (e.g. <c>HttpContext.Abort</c>).</summary>
    public WebSocketConnectionStream(Stream inner, Action? abort = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        _abort = abort;
    }

    /// <summary>The upgraded stream: each write to it is sent (and flushed) as it is.</summary>
    public Stream Inner { get; }

    /// <summary>Held by whoever writes to <see cref="Inner"/>: this stream's callers and the transport.</summary>
    public SemaphoreSlim WriteLock { get; } = new(1, 1);

    /// <summary>The WebSocket over this stream: when it is aborted, so is the connection (but see <see cref="ClosedForBrokenFrames"/>).</summary>
    public WebSocket? Socket { get; set; }

    /// <summary>
    /// True once the WebSocket itself has written a close frame with 1002 (protocol error) or 1007 (text that is not
    /// UTF-8): codes Rocket never sends, which the WebSocket sends when it finds the client's frames broken, and then
    /// aborts itself. The connection is then not aborted with it, so the close frame reaches the client ahead of the
    /// end of the connection instead of being cut off by a reset; the endpoint ends the connection when it returns.
    /// </summary>
    public bool ClosedForBrokenFrames { get; private set; }

    // A close frame from the server: FIN and opcode 8, unmasked, its payload starting with the status code.
    private void NoteCloseFrame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length >= 4 && frame[0] == 0x88 && (frame[1] & 0x7F) >= 2)
        {
            var code = (frame[2] << 8) | frame[3];
            if (code is (int)WebSocketCloseStatus.ProtocolError or (int)WebSocketCloseStatus.InvalidPayloadData)
            {
                ClosedForBrokenFrames = true;
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Inner.Read(buffer, offset, count);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count)
    {
        WriteLock.Wait();
        try
        {
            Inner.Write(buffer, offset, count);
            NoteCloseFrame(buffer.AsSpan(offset, count));
        }
        finally
        {
            WriteLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Control frames are rare (a pong per ping, one close): this path need not avoid the state machine.
        await WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            NoteCloseFrame(buffer.Span);
        }
        finally
        {
            WriteLock.Release();
        }
    }

    public override void Flush() => Inner.Flush();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            WriteLock.Release();
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A WebSocket disposes its stream when it is aborted, and after a clean close. Kestrel's upgraded stream does
            // nothing on dispose (it cannot tell which), so an abort must end the connection here, as ASP.NET Core's
            // own WebSocket middleware does; a clean close must not, or the close frame could be cut off.
            if (Socket?.State == WebSocketState.Aborted && !ClosedForBrokenFrames)
            {
                _abort?.Invoke();
            }

            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
