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
/// A frame is written as the one <see cref="SerializedHubMessage"/> every connection shares for that event
/// (<see cref="SignalREventFramer.MessageFor"/>), so a subscriber that keeps up costs a copy into its connection's pipe
/// and allocates nothing. Several pending frames go out back to back the same way while the connection takes them at
/// once (SignalR's transport then sends what gathered in the pipe with one socket write). Once the connection pushes
/// back (a write has to wait), the rest of the batch is joined into one buffer and written as one message, with one
/// flush: SignalR writes a pre-serialized message's bytes as they are, and both hub protocols are self-delimiting, so
/// the client reads the joined bytes as the separate messages they are. The buffer is rented from the array pool,
/// unless the connection uses stateful reconnect, whose replay buffer keeps the messages written until the client
/// acknowledges them (then each batch gets a new array).
/// </para>
/// <para>
/// Flow control is the connection's: SignalR's write waits while the connection's pipe is full, so a client that reads
/// slower than events come fills its pipe, then this subscription's queue, which closes it as a slow consumer. SignalR is
/// never given Rocket's token (it aborts the whole connection when a write's token is canceled, and ending one
/// subscription, by Unsubscribe for instance, must not end the others): Rocket bounds its own wait, and a write it
/// stops waiting for is left to SignalR, which writes it once the client reads (its writes on one connection are
/// serialized, so nothing overtakes it); a <c>close</c> that cannot be written within the collection's close timeout
/// aborts the connection (the client stopped reading altogether).
/// </para>
/// <para>
/// Unlike SSE and WebSocket, a large frame (the reset of a large collection) cannot be handed over in slices: SignalR
/// copies a message whole into the connection's pipe, and an invocation is one message, so each connection holds a copy
/// of it while it is sent (docs/signalr.md, "Large resets").
/// </para>
/// <para>
/// Heartbeats do nothing: SignalR pings every connection on its own (<c>HubOptions.KeepAliveInterval</c>).
/// </para>
/// </remarks>
internal sealed class SignalRTransport : ITransport
{
    private static readonly TransportDescriptor SignalRDescriptor =
        new("signalr");

    private readonly HubConnectionContext _connection;
    private readonly SignalREventFramer _framer;
    private readonly string _collection;
    private readonly bool _pooledJoins;

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
        var write = _connection.WriteAsync(_framer.MessageFor(frame), CancellationToken.None);
        return write.IsCompletedSuccessfully ? default : AwaitAsync(write, abortOnCancel: false, cancellationToken);
    }

    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        // The shared messages, back to back, while the connection takes them at once: each is a copy into the pipe and
        // allocates nothing, and SignalR's transport sends whatever has gathered in the pipe with one socket write.
        var span = frames.Span;
        for (var i = 0; i < span.Length; i++)
        {
            var write = _connection.WriteAsync(_framer.MessageFor(span[i]), CancellationToken.None);
            if (!write.IsCompletedSuccessfully)
            {
                return i + 1 == span.Length
                    ? AwaitAsync(write, abortOnCancel: false, cancellationToken)
                    : AwaitThenJoinAsync(write, frames[(i + 1)..], cancellationToken);
            }
        }

        return default;
    }

    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => default;

    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var message = _framer.Wrap(_framer.FrameClose(_collection, reason));
        var write = _connection.WriteAsync(message, CancellationToken.None);
        return write.IsCompletedSuccessfully ? default : AwaitAsync(write, abortOnCancel: true, cancellationToken);
    }

    private async ValueTask AwaitAsync(ValueTask write, bool abortOnCancel, CancellationToken cancellationToken)
    {
        if (write.IsCompletedSuccessfully)
        {
            return;
        }

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

    // The connection pushed back: once it has taken the pending write, the rest goes out joined, as one message.
    private async ValueTask AwaitThenJoinAsync(ValueTask pending, ReadOnlyMemory<ReadOnlyMemory<byte>> rest, CancellationToken cancellationToken)
    {
        await AwaitAsync(pending, abortOnCancel: false, cancellationToken).ConfigureAwait(false);
        if (rest.Length == 1)
        {
            await WriteAsync(rest.Span[0], cancellationToken).ConfigureAwait(false);
            return;
        }

        var total = 0;
        foreach (var frame in rest.Span)
        {
            total += frame.Length;
        }

        // Pooled unless stateful reconnect keeps written messages for replay; returned only once SignalR is done with it
        // (a write Rocket stops waiting for keeps its buffer, which the GC then takes).
        var joined = _pooledJoins ? ArrayPool<byte>.Shared.Rent(total) : new byte[total];
        var at = 0;
        foreach (var frame in rest.Span)
        {
            frame.Span.CopyTo(joined.AsSpan(at));
            at += frame.Length;
        }

        await AwaitAsync(_connection.WriteAsync(_framer.Wrap(joined.AsMemory(0, total)), CancellationToken.None), abortOnCancel: false, cancellationToken).ConfigureAwait(false);
        if (_pooledJoins)
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }
}
