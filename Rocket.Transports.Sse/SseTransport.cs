using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Rocket.JsonPatch;
using Rocket.Transports;

namespace Rocket.Transports.Sse;

/// <summary>
/// An SSE connection over any <see cref="PipeWriter"/>: no ASP.NET Core types, so a custom server can host Rocket's
/// stream. Frames are written as they are (they are shared with every other SSE subscriber) and flushed once per batch.
/// </summary>
/// <remarks>
/// <para>
/// A write larger than <see cref="SliceBytes"/> (the reset of a large collection, a long backlog) is written in slices of
/// that size, each flushed before the next is copied in, so the connection's buffers hold at most one slice of it
/// beyond what the server lets through before its flush waits (Kestrel's <c>MaxResponseBufferSize</c>, 64 KiB by
/// default), however large the frame: every subscriber shares the one frame, and none copies it whole.
/// </para>
/// <para>
/// SSE has no close frame. When Rocket ends a subscription it writes <c>event: close</c> with
/// <c>data: {"status":"SlowConsumer","reason":"…"}</c> if the connection can still take it; generic clients ignore it
/// (they listen to <c>patch</c>), reconnect, and resume from their last cursor. A client that stopped reading never
/// sees it: the write Rocket was blocked in is canceled, and Kestrel aborts a connection whose flush is canceled.
/// </para>
/// </remarks>
public sealed class SseTransport : ITransport
{
    private static readonly TransportDescriptor SseDescriptor = new("sse");
    private static readonly SseEventType CloseEvent = new("close");

    /// <summary>
    /// The most bytes copied into the connection between two flushes. A flush waits while the server's buffer is full,
    /// so this bounds what one connection holds of a large frame; 64 KiB still carries a typical batch in one flush.
    /// </summary>
    internal const int SliceBytes = 64 * 1024;

    private readonly PipeWriter _output;
    private readonly TimeSpan _writeTimeout;
    private readonly Action? _abort;

    /// <summary>Creates a transport writing to <paramref name="output"/> (an HTTP response body, a socket's pipe).</summary>
    public SseTransport(PipeWriter output)
        : this(output, Timeout.InfiniteTimeSpan, null)
    {
    }

    /// <summary>
    /// Creates a transport writing to <paramref name="output"/> whose writes wait at most <paramref name="writeTimeout"/>
    /// for the client: past it the write fails and <paramref name="abort"/> (an HTTP context's <c>Abort</c>) drops the
    /// connection.
    /// </summary>
    public SseTransport(PipeWriter output, TimeSpan writeTimeout, Action? abort)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _writeTimeout = writeTimeout;
        _abort = abort;
    }

    /// <inheritdoc/>
    public TransportDescriptor Descriptor => SseDescriptor;

    /// <inheritdoc/>
    public IEventFramer Framer => SseEventFramer.Instance;

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        if (frame.Length > SliceBytes)
        {
            return WriteSlicedAsync(new[] { frame }, cancellationToken);
        }

        _output.Write(frame.Span);
        return FlushAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        // The batch is one byte stream: each buffer the writer hands out is filled to its end, a frame split across two
        // buffers where it falls, so a batch costs one GetSpan/Advance pair per buffer (a few per batch), not one per
        // frame. Kestrel's response writer takes a lock in each of those calls.
        var total = 0L;
        foreach (var frame in frames.Span)
        {
            total += frame.Length;
        }

        if (total > SliceBytes)
        {
            return WriteSlicedAsync(frames, cancellationToken);
        }

        var span = _output.GetSpan();
        var used = 0;
        foreach (var frame in frames.Span)
        {
            var rest = frame.Span;
            while (true)
            {
                var n = Math.Min(rest.Length, span.Length - used);
                rest[..n].CopyTo(span[used..]);
                used += n;
                rest = rest[n..];
                if (rest.IsEmpty)
                {
                    break;
                }

                _output.Advance(used);
                span = _output.GetSpan();
                used = 0;
            }
        }

        _output.Advance(used);
        return FlushAsync(cancellationToken);
    }

    // A write larger than a slice: copied in a slice at a time, each flushed (and so waited for, when the client is
    // behind) before the next, so the connection never holds the whole of it. The frames are read until the write ends,
    // which ITransport allows.
    private async ValueTask WriteSlicedAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        var unflushed = 0;
        for (var i = 0; i < frames.Length; i++)
        {
            var rest = frames.Span[i];
            while (!rest.IsEmpty)
            {
                var n = Math.Min(rest.Length, SliceBytes - unflushed);
                _output.Write(rest.Span[..n]);
                unflushed += n;
                rest = rest[n..];
                if (unflushed == SliceBytes)
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                    unflushed = 0;
                }
            }
        }

        if (unflushed > 0)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default)
    {
        // A bare comment line: the smallest thing proxies see as traffic and every client ignores.
        _output.Write(":\n"u8);
        return FlushAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var data = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(data, JsonPatchWriter.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("status"u8, reason.Status.ToString());
            json.WriteString("reason"u8, reason.Description);
            json.WriteEndObject();
        }

        SseFrameWriter.WriteEvent(_output, CloseEvent, default, data.WrittenSpan);
        return FlushAsync(cancellationToken);
    }

    private ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var flush = _output.FlushAsync(cancellationToken);
        return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitFlushAsync(flush, this);

        // Only a flush that waits (the client reads slower than events come) pays for the timeout: the path every
        // subscriber that keeps up takes stays as it was. The pooling builder reuses the state machines.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> pending, SseTransport self)
        {
            if (self._writeTimeout == Timeout.InfiniteTimeSpan)
            {
                await pending.ConfigureAwait(false);
                return;
            }

            var flushing = pending.AsTask();
            try
            {
                await flushing.WaitAsync(self._writeTimeout, CancellationToken.None).ConfigureAwait(false); // the flush itself observes the caller's token
            }
            catch (TimeoutException)
            {
                // The client stopped reading (or vanished without a FIN): drop the connection, which ends the flush
                // and frees what the connection held.
                self._abort?.Invoke();
                _ = flushing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw new TimeoutException($"An SSE write did not complete within {self._writeTimeout.TotalSeconds} s (the client stopped reading); the connection was aborted.");
            }
        }
    }
}
