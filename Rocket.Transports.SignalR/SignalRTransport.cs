using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// The bridge from a Rocket subscription to a SignalR stream: every frame becomes a <see cref="RocketHubEvent"/> in a
/// small bounded buffer, the stream <see cref="RocketHub"/>'s <c>Subscribe</c> returns (<see cref="Stream"/>). SignalR
/// enumerates it and writes each item to its connection, so a client that stops reading fills the connection, then the channel, then
/// the subscription's queue, which closes it as a slow consumer: flow control per client, end to end.
/// </summary>
/// <remarks>
/// <para>
/// Heartbeats do nothing: SignalR pings every connection on its own (<c>HubOptions.KeepAliveInterval</c>), whatever its
/// streams do. A close completes the stream with a <see cref="HubException"/> whose message is
/// <c>&lt;Status&gt;: &lt;description&gt;</c> (for example <c>SlowConsumer: slow consumer: ...</c>), which SignalR passes
/// to the client, after the events already handed over.
/// </para>
/// </remarks>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "The stream is its own enumerator: whoever enumerates it (SignalR) disposes it.")]
public sealed class SignalRTransport : ITransport
{
    private static readonly TransportDescriptor SignalRDescriptor =
        new("signalr", null, null, TransportCapabilities.Bidirectional | TransportCapabilities.Binary | TransportCapabilities.CloseReason);

    private readonly string _collection;
    private readonly HubEventStream _stream;

    /// <summary>Creates a transport for a stream of <paramref name="collection"/>'s events.</summary>
    /// <param name="collection">The collection's name, written into every item.</param>
    /// <param name="streamBufferCapacity">How many items may wait for SignalR; see <see cref="SignalRTransportOptions.StreamBufferCapacity"/>.</param>
    public SignalRTransport(string collection, int streamBufferCapacity = SignalRTransportOptions.DefaultStreamBufferCapacity)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentOutOfRangeException.ThrowIfLessThan(streamBufferCapacity, 1);
        _collection = collection;
        _stream = new HubEventStream(streamBufferCapacity);
    }

    /// <inheritdoc/>
    public TransportDescriptor Descriptor => SignalRDescriptor;

    /// <inheritdoc/>
    public IEventFramer Framer => SignalREventFramer.Instance;

    /// <summary>
    /// The stream of items, for a hub method to return; it ends when the subscription ends (with a
    /// <see cref="HubException"/> naming the reason when Rocket closed it). It can be enumerated once; the token given to
    /// the enumeration (SignalR's, for the stream) cancels a pending read.
    /// </summary>
    public IAsyncEnumerable<RocketHubEvent> Stream => _stream;

    // How many items wait in the stream's buffer (for tests).
    internal int Buffered => _stream.Count;

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        var item = new RocketHubEvent(_collection, frame);
        return _stream.TryWrite(item) ? default : _stream.WaitToWriteAsync(item, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        var span = frames.Span;
        for (var i = 0; i < span.Length; i++)
        {
            var item = new RocketHubEvent(_collection, span[i]);
            if (!_stream.TryWrite(item))
            {
                return WriteRestAsync(item, frames[(i + 1)..], cancellationToken);
            }
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => default;

    /// <inheritdoc/>
    public ValueTask CloseAsync(CloseReason reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reason);
        _stream.Complete(new HubException(reason.ToString()));
        return default;
    }

    /// <summary>
    /// Ends the stream when <paramref name="subscription"/> ends, whatever ended it; a close reason set by
    /// <see cref="CloseAsync"/> comes first and stays.
    /// </summary>
    internal async Task CompleteWhenDoneAsync(Subscription subscription)
    {
        try
        {
            await subscription.Completion.ConfigureAwait(false);
        }
        finally
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            var reason = subscription.CloseReason;
            _stream.Complete(reason is { Status: CloseStatus.TransportFailed } ? new HubException(reason.ToString()) : null);
        }
    }

    // The buffer is full: waits for room for `waiting`, then writes the rest the same way.
    private async ValueTask WriteRestAsync(RocketHubEvent waiting, ReadOnlyMemory<ReadOnlyMemory<byte>> rest, CancellationToken cancellationToken)
    {
        await _stream.WaitToWriteAsync(waiting, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < rest.Length; i++)
        {
            var item = new RocketHubEvent(_collection, rest.Span[i]);
            if (!_stream.TryWrite(item))
            {
                await _stream.WaitToWriteAsync(item, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
