using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Rocket.SignalR;

namespace Rocket.Transports.SignalR;

/// <summary>
/// One collection's subscription on one hub connection: writes the frames the collection built for the connection's
/// hub protocol (complete <c>patch</c> invocations, the same bytes for every connection of that protocol) to the
/// connection as pre-serialized messages, and a <c>close</c> invocation when Rocket ends the subscription.
/// </summary>
/// <remarks>
/// <para>
/// A frame is written as the one <see cref="SerializedHubMessage"/> every connection shares for that event
/// (<see cref="SignalREventFramer.MessagesFor"/>), so a subscriber that keeps up costs a copy into its connection's pipe
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
/// An event whose patch is longer than a slice (the reset of a large collection, a long event) is framed as several
/// messages (<c>patchPart</c> slices, then the <c>patch</c> that completes it; docs/signalr.md, "Large events"): they
/// are written one at a time, each once the connection has taken the one before, so a connection holds at most about
/// its pipe's back-pressure threshold and one slice of it, never the whole. Joined writes are kept to a slice too.
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
        var messages = _framer.MessagesFor(frame);
        if (messages.Length > 1)
        {
            return WriteRestAsync(default, frames: default, parts: messages, pushedBack: false, cancellationToken);
        }

        var write = _connection.WriteAsync(messages[0], CancellationToken.None);
        return write.IsCompletedSuccessfully ? default : AwaitAsync(write, abortOnCancel: false, cancellationToken);
    }

    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        // The shared messages, back to back, while the connection takes them at once: each is a copy into the pipe and
        // allocates nothing, and SignalR's transport sends whatever has gathered in the pipe with one socket write.
        var span = frames.Span;
        for (var i = 0; i < span.Length; i++)
        {
            var messages = _framer.MessagesFor(span[i]);
            if (messages.Length > 1)
            {
                return WriteRestAsync(default, frames[(i + 1)..], messages, pushedBack: false, cancellationToken);
            }

            var write = _connection.WriteAsync(messages[0], CancellationToken.None);
            if (!write.IsCompletedSuccessfully)
            {
                return i + 1 == span.Length
                    ? AwaitAsync(write, abortOnCancel: false, cancellationToken)
                    : WriteRestAsync(write, frames[(i + 1)..], parts: null, pushedBack: true, cancellationToken);
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

    // The slow path, after `pending`: first the messages of an event sent in parts (`parts`), one at a time, each
    // waiting until the connection has taken the one before (so it never holds more than a message or so of it); then
    // the other frames. Once the connection has pushed back, consecutive ordinary frames are joined into one message
    // of at most a slice (PartBytes), so that what a connection holds stays bounded however long the batch.
    private async ValueTask WriteRestAsync(ValueTask pending, ReadOnlyMemory<ReadOnlyMemory<byte>> frames, SerializedHubMessage[]? parts, bool pushedBack, CancellationToken cancellationToken)
    {
        await AwaitAsync(pending, abortOnCancel: false, cancellationToken).ConfigureAwait(false);
        var next = 0;
        while (true)
        {
            if (parts is not null)
            {
                foreach (var part in parts)
                {
                    await AwaitAsync(_connection.WriteAsync(part, CancellationToken.None), abortOnCancel: false, cancellationToken).ConfigureAwait(false);
                }

                parts = null;
            }

            if (next == frames.Length)
            {
                return;
            }

            var messages = _framer.MessagesFor(frames.Span[next]);
            if (messages.Length > 1)
            {
                parts = messages;
                next++;
                continue;
            }

            // The frames that follow, up to the next one sent in parts and to a slice in all.
            var run = 1;
            var total = frames.Span[next].Length;
            while (pushedBack && next + run < frames.Length)
            {
                var following = frames.Span[next + run];
                if (total + following.Length > RocketHubContract.PartBytes || _framer.MessagesFor(following).Length > 1)
                {
                    break;
                }

                total += following.Length;
                run++;
            }

            if (run == 1)
            {
                var write = _connection.WriteAsync(messages[0], CancellationToken.None);
                if (!write.IsCompletedSuccessfully)
                {
                    pushedBack = true;
                    await AwaitAsync(write, abortOnCancel: false, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await WriteJoinedAsync(frames.Slice(next, run), total, cancellationToken).ConfigureAwait(false);
            }

            next += run;
        }
    }

    // Several frames as one message: one write and one flush.
    private async ValueTask WriteJoinedAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, int total, CancellationToken cancellationToken)
    {
        // Pooled unless stateful reconnect keeps written messages for replay; returned only once SignalR is done with it
        // (a write Rocket stops waiting for keeps its buffer, which the GC then takes).
        var joined = _pooledJoins ? ArrayPool<byte>.Shared.Rent(total) : new byte[total];
        var at = 0;
        foreach (var frame in frames.Span)
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
