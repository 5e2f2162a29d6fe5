using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;

namespace Rocket.Transports.SignalR;

/// <summary>
/// One collection's subscription on one hub connection: writes the frames the collection built for the connection's
/// hub protocol (complete <c>patch</c> invocations, the same bytes for every connection of that protocol) to the
/// connection as pre-serialized messages, and a <c>close</c> invocation when Rocket ends the subscription.
/// </summary>
/// <remarks>
/// <para>
/// A single frame is written as the one <see cref="SerializedHubMessage"/> every connection shares for that event
/// (<see cref="SignalREventFramer.MessageFor"/>), so a subscriber that keeps up costs a copy into its connection's pipe
/// and nothing else. Several pending frames are joined into one buffer and written as one message: SignalR writes a
/// pre-serialized message's bytes as they are, with one flush, and both hub protocols are self-delimiting, so the
/// client reads the joined bytes as the separate messages they are. The buffer is rented from the array pool and reused
/// while the subscriber has a backlog, unless the connection uses stateful reconnect, whose replay buffer keeps the
/// messages written until the client acknowledges them (then each batch gets a new array).
/// </para>
/// <para>
/// Flow control is the connection's: SignalR's write waits while the connection's pipe is full, so a client that reads
/// slower than events come fills its pipe, then this subscription's queue, which closes it as a slow consumer. A write
/// Rocket stops waiting for is left to SignalR, which writes it once the client reads (its writes on one connection are
/// serialized, so nothing overtakes it); a <c>close</c> that cannot be written within the collection's close timeout
/// aborts the connection (the client stopped reading altogether).
/// </para>
/// <para>
/// Heartbeats do nothing: SignalR pings every connection on its own (<c>HubOptions.KeepAliveInterval</c>).
/// </para>
/// </remarks>
internal sealed class SignalRTransport : ITransport
{
    private static readonly TransportDescriptor SignalRDescriptor =
        new("signalr", null, null, TransportCapabilities.Bidirectional | TransportCapabilities.Binary | TransportCapabilities.CloseReason);

    private readonly HubConnectionContext _connection;
    private readonly SignalREventFramer _framer;
    private readonly string _collection;
    private readonly bool _pooledJoins;

    // The buffer of the last joined write, reused while the subscriber has a backlog (the loop writes one batch at a time,
    // after the previous one completed) and returned to the pool once it has caught up: rented per write, a flood's
    // thousands of writes pending at once would empty the shared pool.
    private byte[]? _joinBuffer;

    public SignalRTransport(HubConnectionContext connection, SignalREventFramer framer, string collection, bool pooledJoins)
    {
        _connection = connection;
        _framer = framer;
        _collection = collection;
        _pooledJoins = pooledJoins;
    }

    public TransportDescriptor Descriptor => SignalRDescriptor;

    public IEventFramer Framer => _framer;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        if (_joinBuffer is { } caughtUp)
        {
            _joinBuffer = null;
            ArrayPool<byte>.Shared.Return(caughtUp);
        }

        var write = _connection.WriteAsync(_framer.MessageFor(frame), cancellationToken);
        return write.IsCompletedSuccessfully ? default : AwaitAsync(write, abortOnCancel: false, cancellationToken);
    }

    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        var span = frames.Span;
        var total = 0;
        foreach (var frame in span)
        {
            total += frame.Length;
        }

        byte[] joined;
        if (!_pooledJoins)
        {
            joined = new byte[total];
        }
        else
        {
            if (_joinBuffer is { } small && small.Length < total)
            {
                _joinBuffer = null;
                ArrayPool<byte>.Shared.Return(small);
            }

            joined = _joinBuffer ??= ArrayPool<byte>.Shared.Rent(total);
        }

        var at = 0;
        foreach (var frame in span)
        {
            frame.Span.CopyTo(joined.AsSpan(at));
            at += frame.Length;
        }

        var write = _connection.WriteAsync(_framer.Wrap(joined.AsMemory(0, total)), cancellationToken);
        return write.IsCompletedSuccessfully ? default : AwaitJoinedAsync(write, cancellationToken);
    }

    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => default;

    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var message = _framer.Wrap(_framer.FrameClose(_collection, reason));
        var write = _connection.WriteAsync(message, cancellationToken);
        return write.IsCompletedSuccessfully ? default : AwaitAsync(write, abortOnCancel: true, cancellationToken);
    }

    private async ValueTask AwaitAsync(ValueTask write, bool abortOnCancel, CancellationToken cancellationToken)
    {
        try
        {
            // Bounded by the token whether or not SignalR's own wait observes it.
            await write.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abortOnCancel && cancellationToken.IsCancellationRequested)
        {
            _connection.Abort();
            throw;
        }
    }

    private async ValueTask AwaitJoinedAsync(ValueTask write, CancellationToken cancellationToken)
    {
        try
        {
            await write.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A write Rocket stopped waiting for keeps its buffer, which is never reused (the GC takes it).
            _joinBuffer = null;
            throw;
        }
    }
}
