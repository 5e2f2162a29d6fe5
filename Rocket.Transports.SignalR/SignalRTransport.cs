using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Rocket.Live;

namespace Rocket.Transports.SignalR;

/// <summary>
/// The bridge from a Rocket subscription to a SignalR stream: every frame becomes a <see cref="RocketHubEvent"/> in a
/// small bounded channel whose reader is the stream <see cref="RocketHub"/>'s <c>Subscribe</c> returns. SignalR reads it
/// and writes each item to its connection, so a client that stops reading fills the connection, then the channel, then
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
public sealed class SignalRTransport : ITransport
{
    private static readonly TransportDescriptor SignalRDescriptor =
        new("signalr", null, null, TransportCapabilities.Bidirectional | TransportCapabilities.Binary | TransportCapabilities.CloseReason);

    private readonly string _collection;
    private readonly Channel<RocketHubEvent> _channel;

    /// <summary>Creates a transport for a stream of <paramref name="collection"/>'s events.</summary>
    /// <param name="collection">The collection's name, written into every item.</param>
    /// <param name="streamBufferCapacity">How many items may wait for SignalR; see <see cref="SignalRTransportOptions.StreamBufferCapacity"/>.</param>
    public SignalRTransport(string collection, int streamBufferCapacity = SignalRTransportOptions.DefaultStreamBufferCapacity)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentOutOfRangeException.ThrowIfLessThan(streamBufferCapacity, 1);
        _collection = collection;
        _channel = Channel.CreateBounded<RocketHubEvent>(new BoundedChannelOptions(streamBufferCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <inheritdoc/>
    public TransportDescriptor Descriptor => SignalRDescriptor;

    /// <inheritdoc/>
    public IEventFramer Framer => SignalREventFramer.Instance;

    /// <summary>The stream of items, for a hub method to return; it completes when the subscription ends.</summary>
    public ChannelReader<RocketHubEvent> Reader => _channel.Reader;

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        var item = new RocketHubEvent(_collection, frame);
        return _channel.Writer.TryWrite(item) ? default : _channel.Writer.WriteAsync(item, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask WriteManyAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken = default)
    {
        var span = frames.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!_channel.Writer.TryWrite(new RocketHubEvent(_collection, span[i])))
            {
                return WriteRestAsync(frames[i..], cancellationToken);
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
        _channel.Writer.TryComplete(new HubException(reason.ToString()));
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
            _channel.Writer.TryComplete(reason is { Status: CloseStatus.TransportFailed } ? new HubException(reason.ToString()) : null);
        }
    }

    private async ValueTask WriteRestAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> frames, CancellationToken cancellationToken)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            await _channel.Writer.WriteAsync(new RocketHubEvent(_collection, frames.Span[i]), cancellationToken).ConfigureAwait(false);
        }
    }
}
