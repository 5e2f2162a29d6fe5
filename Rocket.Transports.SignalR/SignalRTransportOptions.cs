using System;

namespace Rocket.Transports.SignalR;

/// <summary>
/// Settings of the SignalR transport. Keep-alive and timeouts are SignalR's own (<c>HubOptions.KeepAliveInterval</c>,
/// 15 s by default, is the heartbeat); the per-subscriber queue limits are the collection's
/// (<c>LiveCollectionOptions.SubscriberQueueMaxEvents</c> and <c>SubscriberQueueMaxBytes</c>).
/// </summary>
public sealed class SignalRTransportOptions
{
    /// <summary>
    /// Whether <c>AddSignalRTransport</c> also adds SignalR's MessagePack hub protocol next to the JSON one. Default
    /// <see langword="true"/>: both are part of the transport's contract. Read once, when the transport is added (the
    /// configure delegate of <c>AddSignalRTransport</c> or <c>AddRocketTransport</c> runs then, and only then).
    /// </summary>
    public bool AddMessagePackProtocol { get; set; } = true;

    /// <summary>
    /// The most collections one hub connection may follow at once; a <c>Subscribe</c> to another one past it fails with
    /// the hub error <c>TooManyCollections: ...</c> (subscribing again to a collection already followed is a restart, not
    /// one more). Default 100, as the WebSocket transport's <c>MaxCollectionsPerConnection</c>: each costs a subscription
    /// with its own queue (and a reset when it starts), so one connection cannot hold unbounded memory or work.
    /// </summary>
    public int MaxCollectionsPerConnection
    {
        get => _maxCollectionsPerConnection;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxCollectionsPerConnection = value;
        }
    }

    private int _maxCollectionsPerConnection = 100;
}
