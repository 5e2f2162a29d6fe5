using System;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Settings of the SignalR transport. Keep-alive and timeouts are SignalR's own (<c>HubOptions.KeepAliveInterval</c>,
/// 15 s by default, is the heartbeat); the per-subscriber queue limits are the collection's
/// (<c>LiveCollectionOptions.SubscriberQueueMaxEvents</c> and <c>SubscriberQueueMaxBytes</c>).
/// </summary>
public sealed class SignalRTransportOptions
{
    /// <summary>The default of <see cref="StreamBufferCapacity"/>.</summary>
    public const int DefaultStreamBufferCapacity = 16;

    private int _streamBufferCapacity = DefaultStreamBufferCapacity;

    /// <summary>
    /// How many events may wait between a subscription's queue and SignalR's stream loop, per subscriber. Default 16:
    /// enough to keep SignalR writing while Rocket hands over the next batch, and small, because events waiting here are
    /// outside the collection's queue limits (which decide when a slow consumer is closed).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int StreamBufferCapacity
    {
        get => _streamBufferCapacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _streamBufferCapacity = value;
        }
    }

    /// <summary>
    /// Whether <c>AddSignalRTransport</c> also adds SignalR's MessagePack hub protocol next to the JSON one. Default
    /// <see langword="true"/>: both are part of the transport's contract. Read once, when the transport is added.
    /// </summary>
    public bool AddMessagePackProtocol { get; set; } = true;
}
