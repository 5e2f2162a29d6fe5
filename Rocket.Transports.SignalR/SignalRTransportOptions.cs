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
}
